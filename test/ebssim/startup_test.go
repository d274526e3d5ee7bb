package ebssim_test

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
)

// TestAttachedBeforeStart covers volumes attached in EC2 before the
// simulator starts: one no pod ever uses is left alone, one whose pod
// shows up on that node is adopted and detached when the pod goes, and a
// device name taken by a volume the simulator does not know is skipped.
func TestAttachedBeforeStart(t *testing.T) {
	t.Parallel()
	srv, client := startAWS(t)
	c := startCluster(t, "startup", srv)
	node := c.NodeNames[0]
	inst := c.instances[node]

	// Given a foreign volume on the first device name, and a volume of a
	// bound claim attached with no pod using it,
	foreign, vol := createVolume(t, client), createVolume(t, client)
	attach(t, client, foreign, inst, "/dev/xvdba")
	attach(t, client, vol, inst, "/dev/xvdbz")
	c.createStaticPV(t, "db-pv", vol, "data-db-0")

	// when the simulator starts,
	c.runSimulator(t, defaultOptions(client))

	// then it leaves both alone.
	time.Sleep(5 * (attachDelay + detachDelay)) // long past any delay of the simulator
	waitEBS(t, client, vol, ebsState{State: "in-use", Instance: inst, AttachState: "attached", Device: "/dev/xvdbz"})
	if got := c.sim.Attachments(); len(got) != 0 {
		t.Errorf("simulator believes %v attached, want nothing", got)
	}

	// When a pod using the volume starts on its node,
	c.createStatefulSet(t, "db", 1, node)
	c.scheduledPod(t, "db-0")

	// then the simulator adopts the attachment as it is,
	c.waitVolumeAttachment(t, "db-pv", node)
	waitEBS(t, client, vol, ebsState{State: "in-use", Instance: inst, AttachState: "attached", Device: "/dev/xvdbz"})
	if got := c.sim.Attachments()[vol]; got != inst {
		t.Errorf("simulator believes %s attached to %q, want %s", vol, got, inst)
	}

	// and attaches another volume on that node past the foreign device.
	other := createVolume(t, client)
	c.createStaticPV(t, "other-pv", other, "data-other-0")
	c.createStatefulSet(t, "other", 1, node)
	waitEBS(t, client, other, inUseBy(inst))
	if st, _ := describe(t.Context(), client, other); st.Device == "/dev/xvdba" || st.Device == "/dev/xvdbz" {
		t.Errorf("volume %s attached as %s, a device of another volume", other, st.Device)
	}

	// When the pod goes away, the adopted volume is detached; the foreign
	// one stays.
	c.scale(t, "db", 0)
	waitEBS(t, client, vol, available)
	c.waitNoVolumeAttachment(t, "db-pv")
	waitEBS(t, client, foreign, ebsState{State: "in-use", Instance: inst, AttachState: "attached", Device: "/dev/xvdba"})
}

// attach attaches volumeID to instance directly through EC2.
func attach(t *testing.T, client *ec2.Client, volumeID, instance, device string) {
	t.Helper()
	_, err := client.AttachVolume(t.Context(), &ec2.AttachVolumeInput{
		VolumeId: aws.String(volumeID), InstanceId: aws.String(instance), Device: aws.String(device),
	})
	if err != nil {
		t.Fatalf("attach volume %s to %s: %v", volumeID, instance, err)
	}
}
