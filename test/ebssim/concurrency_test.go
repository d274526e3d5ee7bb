package ebssim_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ec2"
)

// TestManyVolumesAttachConcurrently checks that volumes are attached side
// by side, not one delay after another: AttachVolume calls are held at a
// barrier that opens only when all of them are in flight at once, which a
// simulator that serialized its attach delays or calls never reaches.
func TestManyVolumesAttachConcurrently(t *testing.T) {
	t.Parallel()
	const n = 20
	srv, client := startAWS(t)
	c := startCluster(t, "concurrent", srv)
	barrier := newBarrierEC2(client, n)
	opts := defaultOptions(barrier)
	opts.AttachDelay = 2 * time.Second
	c.runSimulator(t, opts)

	vols := make([]string, n)
	for i := range vols {
		vols[i] = createVolume(t, client)
		name := fmt.Sprintf("db%02d", i)
		c.createStaticPV(t, name, vols[i], "data-"+name+"-0")
		c.createStatefulSet(t, name, 1, "")
	}
	waitFor(t, fmt.Sprintf("%d AttachVolume calls in flight at once", n), func(ctx context.Context) (bool, error) {
		return barrier.opened(), nil
	}, func() string { return fmt.Sprintf("%d in flight", barrier.inFlight()) })

	devices := map[string]string{} // instance + device -> volume
	for i, vol := range vols {
		pod := c.scheduledPod(t, fmt.Sprintf("db%02d-0", i))
		inst := c.instances[pod.Spec.NodeName]
		waitEBS(t, client, vol, inUseBy(inst))
		st, err := describe(t.Context(), client, vol)
		if err != nil {
			t.Fatal(err)
		}
		if other, dup := devices[inst+st.Device]; dup {
			t.Errorf("volumes %s and %s share device %s on %s", other, vol, st.Device, inst)
		}
		devices[inst+st.Device] = vol
	}
	if got := len(c.sim.Attachments()); got != n {
		t.Errorf("simulator believes %d volumes attached, want %d", got, n)
	}
}

// barrierEC2 holds AttachVolume calls until n of them wait together, then
// lets every call through.
type barrierEC2 struct {
	*ec2.Client
	n    int
	mu   sync.Mutex
	wait int
	open chan struct{}
}

func newBarrierEC2(client *ec2.Client, n int) *barrierEC2 {
	return &barrierEC2{Client: client, n: n, open: make(chan struct{})}
}

// AttachVolume waits at the barrier, then attaches.
func (b *barrierEC2) AttachVolume(ctx context.Context, in *ec2.AttachVolumeInput, opts ...func(*ec2.Options)) (*ec2.AttachVolumeOutput, error) {
	b.mu.Lock()
	b.wait++
	if b.wait == b.n {
		close(b.open)
	}
	b.mu.Unlock()
	select {
	case <-b.open:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return b.Client.AttachVolume(ctx, in, opts...)
}

func (b *barrierEC2) opened() bool {
	select {
	case <-b.open:
		return true
	default:
		return false
	}
}

func (b *barrierEC2) inFlight() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.wait
}
