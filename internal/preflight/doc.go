// Package preflight owns the cluster scope's worksheet: the named checks
// that must hold before workloads move from EKS cluster A (blue) to cluster
// B (green) in the same VPC. Each check reads AWS (EKS, EC2, IAM, ELBv2,
// Route 53) and the clusters' Kubernetes APIs and returns a Result that
// says what it saw (IDs, versions, TTLs) and, when it does not pass, how to
// fix it.
//
// The checks, in the order Run reports them:
//
//   - same-vpc: A and B are in one VPC, and every subnet of B is in it.
//   - oidc-provider: B's OIDC issuer has an IAM OIDC provider, which IAM
//     roles for service accounts (the EBS CSI driver, the Load Balancer
//     Controller) need.
//   - lb-controller: the AWS Load Balancer Controller runs in B with at
//     least one ready replica.
//   - ebs-csi-version: A and B run the same EBS CSI driver version (the EKS
//     add-on, else the ebs-csi-controller image), and B has the
//     ebs.csi.aws.com CSIDriver.
//   - storage-class: the storage class of every handed-off volume exists in
//     B.
//   - record-ttl: the weighted records have a TTL of at most MaxTTL, so a
//     shift takes effect within a minute.
//   - record-values: each weighted record set holds the value or alias
//     target the spec gives it, which the shifts would otherwise overwrite.
//   - security-groups: B's cluster security group admits traffic from
//     every subnet of B's load balancers.
//   - volume-zones: every handed-off volume's availability zone has a
//     schedulable node of B, since an EBS volume cannot leave its zone.
//
// Run runs every check even when others fail; an API error makes the check
// that met it fail with the error's code and message. The package knows
// nothing of flags or output formats: the CLI decides how to print the
// results and whether a warning stops a migration.
package preflight
