package ebssim_test

import (
	"context"
	"testing"
)

// TestHandOffBetweenClusters walks a volume through the stateful hand-off:
// attached in cluster A, released by scaling A's StatefulSet to 0, then
// attached in cluster B through a static PV.
func TestHandOffBetweenClusters(t *testing.T) {
	t.Parallel()
	srv, client := startAWS(t)
	a := startCluster(t, "handoff-a", srv)
	b := startCluster(t, "handoff-b", srv)
	a.runSimulator(t, defaultOptions(client))
	b.runSimulator(t, defaultOptions(client))
	vol := createVolume(t, client)

	// Given a StatefulSet in A whose claim binds to a static PV of the volume,
	a.createStaticPV(t, "db-a", vol, "data-db-0")
	a.createStatefulSet(t, "db", 1, "")
	podA := a.scheduledPod(t, "db-0")
	instA := a.instances[podA.Spec.NodeName]

	// then the simulator attaches the volume to the pod's node.
	waitEBS(t, client, vol, inUseBy(instA))
	a.waitVolumeAttachment(t, "db-a", podA.Spec.NodeName)
	if got := a.sim.Attachments()[vol]; got != instA {
		t.Errorf("simulator of A believes %s attached to %q, want %s", vol, got, instA)
	}

	// When A's StatefulSet scales to 0,
	a.scale(t, "db", 0)

	// then the volume is detached and its VolumeAttachment deleted.
	waitEBS(t, client, vol, available)
	a.waitNoVolumeAttachment(t, "db-a")
	waitFor(t, "simulator of A to forget the volume", func(ctx context.Context) (bool, error) {
		return len(a.sim.Attachments()) == 0, nil
	})

	// When the volume is a static PV in B used by a StatefulSet,
	b.createStaticPV(t, "db-b", vol, "data-db-0")
	b.createStatefulSet(t, "db", 1, "")
	podB := b.scheduledPod(t, "db-0")
	instB := b.instances[podB.Spec.NodeName]

	// then it is attached to B's node.
	waitEBS(t, client, vol, inUseBy(instB))
	b.waitVolumeAttachment(t, "db-b", podB.Spec.NodeName)
	if got := b.sim.Attachments()[vol]; got != instB {
		t.Errorf("simulator of B believes %s attached to %q, want %s", vol, got, instB)
	}
	if deleted := srv.DeletedVolumes(); len(deleted) != 0 {
		t.Errorf("volumes deleted: %v", deleted)
	}
}
