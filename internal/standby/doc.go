// Package standby owns the warm standby of a cluster migration: copying the
// stateless workloads of cluster A (blue) into cluster B (green) so that B
// runs them, Ready, before any traffic moves.
//
// It owns:
//
//   - making an object portable to another cluster ([Sanitize]): dropping
//     what the source API server and its controllers assigned (status, uid,
//     resourceVersion, managedFields, cluster IPs, node ports, node names,
//     bound volume names, Job controller uids, token references);
//   - choosing what to copy ([Selection], [Plan]): namespaces, kinds, a
//     label selector and names, minus what controllers or the cluster
//     itself create (owned objects, the default ServiceAccount,
//     kube-root-ca.crt, service-account token Secrets);
//   - copying ([Copy]): server-side apply into B with the field manager
//     "bluegreen", forced, namespaces first, so that a repeated copy changes
//     nothing that did not change in A;
//   - waiting until the copied Deployments have rolled out in B
//     ([WaitReady]).
//
// Secrets are copied with their data; their values never reach a log or an
// error message.
//
// Stateful workloads (StatefulSets and their volumes) are out of scope: the
// volume hand-off moves them.
package standby
