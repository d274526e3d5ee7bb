package volume

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/bluegreen/bluegreen/test/awsfake"
)

// countingHTTP counts the EC2 actions the SDK sends.
type countingHTTP struct {
	mu      sync.Mutex
	actions map[string]int
}

func (c *countingHTTP) Do(req *http.Request) (*http.Response, error) {
	body, err := io.ReadAll(req.Body)
	if err != nil {
		return nil, err
	}
	req.Body = io.NopCloser(bytes.NewReader(body))
	form, _ := url.ParseQuery(string(body))
	c.mu.Lock()
	c.actions[form.Get("Action")]++
	c.mu.Unlock()
	return http.DefaultClient.Do(req)
}

func (c *countingHTTP) count(action string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.actions[action]
}

// Lanes that wait at the same time share EC2 calls: forty lanes reading
// their own volume, each ten times, cost a handful of DescribeVolumes per
// interval instead of one per lane per look; every lane still gets its own
// volume, an unknown ID fails only its own lane, and a snapshot created a
// moment ago is read back.
func TestEC2ReadsBatchLanes(t *testing.T) {
	ctx := context.Background()
	fake := awsfake.New(awsfake.Options{}).StartT(t)
	const lanes, looks = 40, 10
	ids := make([]string, lanes)
	for i := range ids {
		id, err := fake.AddVolume(awsfake.Volume{AZ: "us-east-1a"})
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = id
	}
	hc := &countingHTTP{actions: map[string]int{}}
	cfg := fake.AWSConfig()
	cfg.HTTPClient = hc
	client := ec2.NewFromConfig(cfg)
	const interval = 50 * time.Millisecond
	reads := newEC2Reads(client, interval)

	start := time.Now()
	var wg sync.WaitGroup
	var wrong atomic.Int32
	for i := range lanes {
		wg.Go(func() {
			for range looks {
				got, err := reads.volumes.Get(ctx, []string{ids[i]})
				if err != nil || len(got) != 1 || aws.ToString(got[ids[i]].VolumeId) != ids[i] || got[ids[i]].State != ec2types.VolumeStateAvailable {
					wrong.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if n := wrong.Load(); n > 0 {
		t.Fatalf("%d of %d reads did not return the lane's own available volume", n, lanes*looks)
	}
	// Every look of every lane waits for a call that started after it
	// asked, and calls start at least an interval apart: no more calls
	// than intervals elapsed, and far fewer than lanes × looks.
	calls := hc.count("DescribeVolumes")
	if most := int(time.Since(start)/interval) + 1; calls > most {
		t.Fatalf("%d DescribeVolumes in %s at one per %s at most", calls, time.Since(start), interval)
	}
	if calls < looks || calls >= lanes*looks/4 {
		t.Fatalf("%d DescribeVolumes for %d lanes × %d looks: not batched", calls, lanes, looks)
	}

	got, err := reads.volumes.Get(ctx, []string{ids[0], "vol-0123456789abcdef0"})
	if err != nil {
		t.Fatalf("an unknown volume failed the call: %v", err)
	}
	if err := allFound(got, []string{ids[0], "vol-0123456789abcdef0"}); err == nil || !strings.Contains(err.Error(), "vol-0123456789abcdef0") {
		t.Fatalf("allFound = %v, want the unknown volume named", err)
	}

	snap, err := client.CreateSnapshot(ctx, &ec2.CreateSnapshotInput{VolumeId: aws.String(ids[1])})
	if err != nil {
		t.Fatal(err)
	}
	snaps, err := reads.snapshots.Get(ctx, []string{aws.ToString(snap.SnapshotId)})
	if err != nil || aws.ToString(snaps[aws.ToString(snap.SnapshotId)].VolumeId) != ids[1] {
		t.Fatalf("snapshot read back = %v, %v", snaps, err)
	}

	// A lane that gives up does not fail the batch it joined.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := reads.volumes.Get(cctx, []string{ids[2]}); err == nil {
		t.Fatal("a cancelled caller got a result")
	}
	if got, err := reads.volumes.Get(ctx, []string{ids[2]}); err != nil || len(got) != 1 {
		t.Fatalf("after a cancelled caller: %v, %v", got, err)
	}
}
