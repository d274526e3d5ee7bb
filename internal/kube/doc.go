// Package kube owns bluegreen's access to Kubernetes: building clients from a
// kubeconfig and context, the Lease that allows one run per environment at a
// time, and small read helpers shared by the scopes.
package kube
