// Package migrationbed starts the world a cluster-scope migration runs in,
// on one machine and without a cloud account: two test-bed clusters (A =
// blue, B = green) that look like EKS clusters in one VPC, the project's
// AWS wire fake seeded with what the runbook's worksheet asks for, and one
// EBS CSI driver simulator per cluster. It installs a sample shop (a
// stateless web Deployment and StatefulSets on EBS volumes) and writes the
// migration spec. The e2e scenarios, the hand-off benchmark and the demo
// share it.
package migrationbed
