package volume

import (
	"context"
	"encoding/json"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/bluegreen/bluegreen/internal/awscluster"
	"github.com/bluegreen/bluegreen/internal/clock"
	"github.com/bluegreen/bluegreen/internal/engine"
	"github.com/bluegreen/bluegreen/internal/journal"
	"github.com/bluegreen/bluegreen/internal/plan"
	"github.com/bluegreen/bluegreen/test/awsfake"
)

const snapRun = "20260101T000000-snap"

// snapshotWorld is the AWS wire fake with one volume and the hand-off's
// actions on the real (rate-limited) EC2 client; no cluster is needed for
// the EC2-only steps.
func snapshotWorld(t *testing.T) (*awsfake.Server, string, map[string]engine.Action) {
	t.Helper()
	fake := awsfake.New(awsfake.Options{SnapshotDelay: 100 * time.Millisecond}).StartT(t)
	vol, err := fake.AddVolume(awsfake.Volume{AZ: "us-east-1a", Size: 10})
	if err != nil {
		t.Fatal(err)
	}
	env := Env{EC2: awscluster.FromConfig(fake.AWSConfig()).EC2, Log: slog.New(slog.DiscardHandler), Poll: 20 * time.Millisecond}
	return fake, vol, Actions(env)
}

// runOne runs a one-step run of kind through the engine, journaled in a
// fresh journal, and returns the run.
func runOne(t *testing.T, actions map[string]engine.Action, kind string, p plan.HandoffParams) *journal.Run {
	t.Helper()
	store, err := journal.OpenBolt(filepath.Join(t.TempDir(), "journal.db"))
	if err != nil {
		t.Fatal(err)
	}
	x := exec(t, snapRun, kind, p)
	x.Step.State = journal.Pending
	r := &journal.Run{ID: snapRun, Scope: "cluster", App: "shop", State: journal.Running, Approved: true, Steps: []journal.Step{*x.Step}}
	e := &engine.Engine{Store: store, Actions: actions, Clock: clock.Real{}, Log: slog.New(slog.DiscardHandler)}
	_ = e.Run(context.Background(), r)
	return r
}

// ownSnapshots returns the state of the account's snapshots of vol, by ID.
func ownSnapshots(t *testing.T, fake *awsfake.Server, vol string) map[string]string {
	t.Helper()
	out, err := ec2.NewFromConfig(fake.AWSConfig()).DescribeSnapshots(context.Background(), &ec2.DescribeSnapshotsInput{OwnerIds: []string{"self"}})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, s := range out.Snapshots {
		if aws.ToString(s.VolumeId) == vol {
			got[aws.ToString(s.SnapshotId)] = string(s.State)
		}
	}
	return got
}

// The snapshot step ends with a completed snapshot of the account's own
// for the volume whatever it finds: a snapshot of the run that failed (a
// resumed step) is replaced, another account's public snapshot is never
// taken for ours, and a burst of throttled CreateSnapshot calls is waited
// out instead of failing the hand-off.
func TestSnapshotStepEndsWithACompletedSnapshotOfItsOwn(t *testing.T) {
	tests := []struct {
		name  string
		given func(fake *awsfake.Server, vol string)
	}{
		{"the run's snapshot failed before a resume", func(fake *awsfake.Server, vol string) {
			fake.AddSnapshot(awsfake.Snapshot{VolumeID: vol, State: "error", Tags: map[string]string{RunLabel: snapRun}})
		}},
		{"another account's public snapshot with the run's tag", func(fake *awsfake.Server, vol string) {
			fake.AddSnapshot(awsfake.Snapshot{VolumeID: vol, OwnerID: "999999999999", Public: true, Tags: map[string]string{RunLabel: snapRun}})
		}},
		{"CreateSnapshot throttled past the SDK's retries", func(fake *awsfake.Server, _ string) {
			fake.Throttle("CreateSnapshot", 4)
		}},
		{"the first snapshot fails while the step waits", func(fake *awsfake.Server, vol string) {
			fake.FailSnapshots(vol, 1)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Given a volume and what the case gives
			fake, vol, actions := snapshotWorld(t)
			tt.given(fake, vol)

			// When the snapshot step runs
			r := runOne(t, actions, plan.KindSnapshot, plan.HandoffParams{Claims: []plan.ClaimObserved{claimOn(vol)}, Timeout: plan.Duration(time.Minute)})

			// Then it succeeded with a completed snapshot of our own
			var snaps map[string]string
			if len(r.Steps[0].Output) > 0 {
				_ = json.Unmarshal(r.Steps[0].Output, &snaps)
			}
			own := ownSnapshots(t, fake, vol)
			if r.State != journal.Succeeded || own[snaps[vol]] != "completed" {
				t.Fatalf("run %s (%s), step output %v, own snapshots %v: want a completed snapshot of our own", r.State, r.Steps[0].Error, snaps, own)
			}
		})
	}
}

// A volume whose snapshots keep failing stops the step after a few
// attempts, naming the volume.
func TestSnapshotStepGivesUpOnAVolumeThatNeverSnapshots(t *testing.T) {
	fake, vol, actions := snapshotWorld(t)
	fake.FailSnapshots(vol, 100)
	r := runOne(t, actions, plan.KindSnapshot, plan.HandoffParams{Claims: []plan.ClaimObserved{claimOn(vol)}, Timeout: plan.Duration(time.Minute)})
	if r.State == journal.Succeeded || !strings.Contains(r.Steps[0].Error, "failed 3 times") || !strings.Contains(r.Steps[0].Error, vol) {
		t.Fatalf("run %s, step error %q: want a failure naming %s after 3 attempts", r.State, r.Steps[0].Error, vol)
	}
	if n := len(ownSnapshots(t, fake, vol)); n != 3 {
		t.Fatalf("%d snapshots taken, want 3", n)
	}
}

// Tagging the volumes for B's driver waits out a burst of throttled
// CreateTags calls instead of rolling the hand-off back.
func TestTagStepWaitsOutThrottling(t *testing.T) {
	fake, vol, actions := snapshotWorld(t)
	fake.Throttle("CreateTags", 4)
	r := runOne(t, actions, plan.KindTagVolumes, plan.HandoffParams{Claims: []plan.ClaimObserved{claimOn(vol)}, Timeout: plan.Duration(time.Minute)})
	out, err := ec2.NewFromConfig(fake.AWSConfig()).DescribeVolumes(context.Background(), &ec2.DescribeVolumesInput{VolumeIds: []string{vol}})
	if err != nil {
		t.Fatal(err)
	}
	tagged := false
	for _, tg := range out.Volumes[0].Tags {
		tagged = tagged || (aws.ToString(tg.Key) == plan.CSITagKey && aws.ToString(tg.Value) == "true")
	}
	if r.State != journal.Succeeded || !tagged {
		t.Fatalf("run %s (%s), volume tagged %v: want the tag despite the throttling", r.State, r.Steps[0].Error, tagged)
	}
}
