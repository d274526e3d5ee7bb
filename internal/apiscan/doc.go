// Package apiscan owns finding Kubernetes objects that use an API version a
// target Kubernetes release no longer serves, before a workload is moved to a
// cluster running that release.
//
// It owns:
//
//   - the removal table ([Removals], [Lookup], [Removed]): one row per
//     removed group/version/kind, with the release that stopped serving it,
//     the replacement and what is not a drop-in change, kept in step with the
//     upstream "Deprecated API Migration Guide";
//   - release versions as users and API servers spell them ([ParseVersion]):
//     "1.33", "v1.33", "1.33.2", "v1.33.0-eks-1234";
//   - scanning manifests ([ScanManifests]): multi-document YAML, JSON
//     streams and List kinds;
//   - scanning a live cluster ([ScanCluster]). An API server serves every
//     stored object at the versions it still serves, so reading an object
//     never shows an old apiVersion. What does show it is how the object was
//     written: the apiVersion recorded in the
//     kubectl.kubernetes.io/last-applied-configuration annotation and in
//     each metadata.managedFields entry.
//
// The package only reads; it never changes a manifest or an object.
package apiscan
