// Package testbed runs throwaway Kubernetes clusters for bluegreen's tests.
//
// A test-bed cluster is a real control plane (etcd, kube-apiserver,
// kube-controller-manager, kube-scheduler) started as local processes by
// kwokctl's binary runtime, plus a kwok controller that plays the kubelet for
// fake nodes. Deployments, StatefulSets, Services and EndpointSlices behave as
// in a real cluster; pods become Running and Ready without running anything.
// A cluster starts in a few seconds and needs no Docker and no network.
//
// The package owns:
//
//   - the cluster lifecycle: [Start], [StartT] and [Cluster.Stop], each
//     cluster in its own work directory with its own ports, so several
//     clusters (also from parallel test packages) run side by side;
//   - the fake nodes: [Options.Nodes] Ready nodes labelled and identified like
//     EKS nodes (zone label, aws:/// provider ID);
//   - the pod behaviour: kwok's default stages, except that a pod whose first
//     container image contains "unready" is Running but never Ready
//     (see [UnreadyMarker]);
//   - clean-up: Stop kills every process of a cluster and removes its
//     folder; clusters of a process that died without stopping them (Ctrl-C,
//     go test -timeout) are stopped by the next Start on the machine;
//   - finding the binaries: [BinDir] (env BLUEGREEN_TESTBED_BIN, else the
//     cache that hack/testbed.sh fills, which `make testbed` runs).
//
// The control-plane binaries come from the separate module in the build
// folder; kwok and kwokctl are installed at [KwokVersion]. The cmd/testbed
// command starts and stops named clusters for scripts.
package testbed
