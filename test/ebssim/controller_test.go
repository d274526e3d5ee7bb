package ebssim_test

import (
	"context"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/bluegreen/bluegreen/test/ebssim"
)

// TestControllerManagedNodes covers nodes that carry the kubelet's
// controller-managed-attach-detach annotation (test-bed nodes do not): the
// attach/detach controller of kube-controller-manager then creates and
// deletes the VolumeAttachments, and the simulator only plays the external
// attacher, setting their status, without creating a second object.
func TestControllerManagedNodes(t *testing.T) {
	t.Parallel()
	srv, client := startAWS(t)
	c := startCluster(t, "managed", srv)
	for _, name := range c.NodeNames {
		patch := []byte(`{"metadata":{"annotations":{"volumes.kubernetes.io/controller-managed-attach-detach":"true"}}}`)
		if _, err := c.Client.CoreV1().Nodes().Patch(t.Context(), name, types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
			t.Fatalf("annotate node %s: %v", name, err)
		}
	}
	c.runSimulator(t, defaultOptions(client))
	vol := createVolume(t, client)

	// Given a StatefulSet on a static PV of the volume,
	c.createStaticPV(t, "db-pv", vol, "data-db-0")
	c.createStatefulSet(t, "db", 1, "")
	pod := c.scheduledPod(t, "db-0")
	node := pod.Spec.NodeName

	// then the volume is attached, and the controller's VolumeAttachment —
	// the only one — shows it.
	waitEBS(t, client, vol, inUseBy(c.instances[node]))
	c.waitVolumeAttachment(t, "db-pv", node)
	list, err := c.Client.StorageV1().VolumeAttachments().List(t.Context(), metav1.ListOptions{})
	if err != nil {
		t.Fatalf("list volume attachments: %v", err)
	}
	var names []string
	for _, va := range list.Items {
		names = append(names, va.Name)
	}
	if want := ebssim.AttachmentName(vol, ebssim.DefaultDriver, node); len(names) != 1 || names[0] != want {
		t.Errorf("volume attachments %v, want only %s", names, want)
	}

	// When the StatefulSet scales to 0, the controller deletes the
	// VolumeAttachment and the simulator detaches the volume.
	c.scale(t, "db", 0)
	c.waitNoVolumeAttachment(t, "db-pv")
	waitEBS(t, client, vol, available)
	waitFor(t, "simulator to forget the volume", func(context.Context) (bool, error) {
		return len(c.sim.Attachments()) == 0, nil
	})
}
