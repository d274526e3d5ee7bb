package ebssim_test

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"

	"github.com/bluegreen/bluegreen/test/ebssim"
)

// TestMultiAttachAcrossClusters holds a volume attached in cluster A (a
// node that never unmounts) while B's pod wants it: B's pod gets one
// Multi-Attach event naming A's instance, and B's attach succeeds once the
// hold is released.
func TestMultiAttachAcrossClusters(t *testing.T) {
	t.Parallel()
	srv, client := startAWS(t)
	a := startCluster(t, "multi-a", srv)
	b := startCluster(t, "multi-b", srv)
	a.runSimulator(t, defaultOptions(client))
	b.runSimulator(t, defaultOptions(client))
	vol := createVolume(t, client)

	// Given the volume attached in A and held there,
	a.createStaticPV(t, "db-a", vol, "data-db-0")
	a.createStatefulSet(t, "db", 1, "")
	podA := a.scheduledPod(t, "db-0")
	instA := a.instances[podA.Spec.NodeName]
	waitEBS(t, client, vol, inUseBy(instA))
	a.sim.Hold(vol, true)

	// even after A's StatefulSet scaled to 0,
	a.scale(t, "db", 0)
	a.waitPodGone(t, "db-0")

	// when B's StatefulSet wants it,
	b.createStaticPV(t, "db-b", vol, "data-db-0")
	b.createStatefulSet(t, "db", 1, "")
	podB := b.scheduledPod(t, "db-0")

	// then B's pod gets a Multi-Attach event naming A's instance,
	var events []corev1.Event
	waitFor(t, "a Multi-Attach event on B's pod", func(ctx context.Context) (bool, error) {
		events = failedAttachEvents(ctx, t, b, podB)
		return len(events) > 0, nil
	})
	ev := events[0]
	if !strings.HasPrefix(ev.Message, `Multi-Attach error for volume "db-b" Volume is already exclusively attached to one node`) ||
		!strings.Contains(ev.Message, instA) || ev.Type != corev1.EventTypeWarning {
		t.Errorf("event %s %q, want a Warning Multi-Attach error for volume db-b naming %s", ev.Type, ev.Message, instA)
	}

	// and only one, while B retries and the hold keeps the volume in A.
	time.Sleep(5 * (detachDelay + ec2Detach)) // dozens of retries, well past A's detach delay
	if got := failedAttachEvents(t.Context(), t, b, podB); len(got) != 1 {
		t.Errorf("%d FailedAttachVolume events on B's pod, want 1: %+v", len(got), got)
	}
	if st, err := describe(t.Context(), client, vol); err != nil || st.Instance != instA {
		t.Fatalf("held volume %s: %+v, %v; want still attached to %s", vol, st, err, instA)
	}
	if got := a.sim.Attachments()[vol]; got != instA {
		t.Errorf("simulator of A believes the held volume attached to %q, want %s", got, instA)
	}
	if va, err := b.attachmentOf(t.Context(), "db-b"); err != nil || va == nil || va.Status.Attached ||
		va.Status.AttachError == nil || !strings.Contains(va.Status.AttachError.Message, "Multi-Attach") {
		t.Errorf("B's volume attachment while A holds the volume: %+v, %v; want not attached, with the Multi-Attach error", va, err)
	}

	// When the hold is released,
	a.sim.Hold(vol, false)

	// then A detaches and B's retries attach it to B's node.
	instB := b.instances[podB.Spec.NodeName]
	waitEBS(t, client, vol, inUseBy(instB))
	b.waitVolumeAttachment(t, "db-b", podB.Spec.NodeName)
	a.waitNoVolumeAttachment(t, "db-a")
}

// failedAttachEvents returns the FailedAttachVolume events on pod in c.
func failedAttachEvents(ctx context.Context, t *testing.T, c *cluster, pod *corev1.Pod) []corev1.Event {
	t.Helper()
	sel := fields.Set{
		"involvedObject.kind": "Pod",
		"involvedObject.name": pod.Name,
		"involvedObject.uid":  string(pod.UID),
		"reason":              ebssim.ReasonFailedAttach,
	}.AsSelector().String()
	list, err := c.Client.CoreV1().Events(pod.Namespace).List(ctx, metav1.ListOptions{FieldSelector: sel})
	if err != nil {
		t.Logf("list events of pod %s: %v", pod.Name, err)
		return nil
	}
	return list.Items
}
