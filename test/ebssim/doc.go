// Package ebssim is a simulator that stands in for the AWS EBS CSI driver
// on test-bed clusters, where no kubelet and no real EC2 exist.
//
// One Simulator serves one cluster. It watches Pods, PersistentVolumeClaims,
// PersistentVolumes, Nodes and VolumeAttachments and does, against an EC2
// endpoint (in tests the test/awsfake server through the real SDK), what the
// attach/detach controller, the external attacher and the EBS driver's
// controller plugin do together:
//
//   - when a scheduled pod uses a Bound PVC whose PV is a volume of the
//     driver (CSI handle "vol-…" or "aws://<zone>/vol-…", or an in-tree
//     awsElasticBlockStore volume), it waits Options.AttachDelay and attaches
//     the volume to the instance named by the node's provider ID, unless EC2
//     shows it attached there already;
//   - when the volume is attached to another instance — in this cluster or
//     in another one — it records a FailedAttachVolume Multi-Attach Warning
//     event on the pod, once per pod and holder, and retries every
//     Options.RetryInterval until the attach succeeds or the pod is gone;
//   - when no pod on the node uses the volume any more (deleted or terminal),
//     it waits Options.DetachDelay and detaches it, unless Simulator.Hold
//     holds it (a node that never unmounts);
//   - it keeps a storage.k8s.io/v1 VolumeAttachment per volume and node, named
//     as Kubernetes names it, with status.attached true once EC2 says so.
//     Nodes without the kubelet's controller-managed-attach-detach annotation
//     (all test-bed nodes) are ignored by kube-controller-manager's
//     attach/detach controller, so the simulator creates and deletes their
//     VolumeAttachments itself; on annotated nodes that controller creates
//     and deletes them, and the simulator only sets their status (the
//     external attacher's part), while attach and detach in EC2 stay driven
//     by the pods as above.
//
// Each volume has its own worker goroutine, so the delays of many volumes run
// side by side. A volume that is attached in EC2 to one of the cluster's
// nodes but used by no pod when the simulator starts is left alone: the
// simulator detaches only what it has seen a pod use, so a restart never
// pulls a volume from under a workload it has not observed yet. Once a pod
// using it appears on that node the attachment is adopted, and detached when
// that pod goes away. Stopping the simulator leaves every volume as it is.
//
// The simulator is for tests and demos only; it never talks to real AWS on
// its own: the caller supplies the EC2 client.
package ebssim
