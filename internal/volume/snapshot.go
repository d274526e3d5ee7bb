package volume

import (
	"context"
	"fmt"
	"sort"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	bgaws "github.com/bluegreen/bluegreen/internal/aws"
	"github.com/bluegreen/bluegreen/internal/batch"
	"github.com/bluegreen/bluegreen/internal/clock"
	"github.com/bluegreen/bluegreen/internal/engine"
)

// snapshot takes one snapshot per volume, tagged with the run so a resumed
// step finds it instead of taking another, and waits until all completed.
// A snapshot that ends in error is replaced (up to maxSnapshotTries per
// volume), on resume too. The wait is bounded by the step's own timeout:
// a first snapshot of a large volume takes hours. Snapshots are kept:
// they are the last line of defence.
func (e Env) snapshot() engine.Action {
	return engine.Action{Do: func(ctx context.Context, x engine.Exec) (any, error) {
		p, err := params(x)
		if err != nil {
			return nil, err
		}
		snaps := map[string]string{} // volume → snapshot
		for _, vol := range volumeIDs(p) {
			id, err := e.ensureSnapshot(ctx, x.Run.ID, vol)
			if err != nil {
				return nil, err
			}
			snaps[vol] = id
		}
		tries := map[string]int{}
		var failed batch.Misses
		err = clock.Poll(ctx, e.clk(), e.poll(), p.Timeout.D(), func(ctx context.Context) (bool, error) {
			got, err := e.reads.snapshots.Get(ctx, values(snaps))
			if err != nil {
				return false, failed.Tolerate(err)
			}
			failed = 0
			done := 0
			for vol, id := range snaps {
				s, ok := got[id]
				switch {
				case !ok: // just created: EC2 is eventually consistent
				case s.State == ec2types.SnapshotStateCompleted:
					done++
				case s.State == ec2types.SnapshotStateError:
					if tries[vol]++; tries[vol] >= maxSnapshotTries {
						return false, fmt.Errorf("snapshot %s of %s failed %d times, last: %s", id, vol, tries[vol], aws.ToString(s.StateMessage))
					}
					e.Log.Warn("snapshot failed, taking another", "volume", vol, "snapshot", id, "message", aws.ToString(s.StateMessage))
					if snaps[vol], err = e.ensureSnapshot(ctx, x.Run.ID, vol); err != nil {
						return false, err
					}
				}
			}
			return done == len(snaps), nil
		})
		if err != nil {
			return nil, fmt.Errorf("wait for snapshots %v: %w", snaps, err)
		}
		return snaps, nil
	}}
}

// maxSnapshotTries is how many snapshots of one volume a step takes
// before it gives up: EC2 fails a snapshot now and then, not every time.
const maxSnapshotTries = 3

// ensureSnapshot returns the run's snapshot of vol that has not failed,
// taking one if there is none. Only the account's own snapshots count
// (OwnerIds self): without it EC2 also searches every public snapshot.
func (e Env) ensureSnapshot(ctx context.Context, run, vol string) (string, error) {
	out, err := e.EC2.DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{OwnerIds: []string{"self"}, Filters: []ec2types.Filter{
		{Name: aws.String("volume-id"), Values: []string{vol}},
		{Name: aws.String("tag:" + RunLabel), Values: []string{run}},
	}})
	if err != nil {
		return "", fmt.Errorf("describe snapshots of %s: %w", vol, awsWrite(err))
	}
	for _, s := range out.Snapshots {
		if s.State != ec2types.SnapshotStateError {
			return aws.ToString(s.SnapshotId), nil
		}
	}
	created, err := e.EC2.CreateSnapshot(ctx, &ec2.CreateSnapshotInput{
		VolumeId:    aws.String(vol),
		Description: aws.String("bluegreen hand-off of " + vol + " (run " + run + ")"),
		TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeSnapshot,
			Tags: []ec2types.Tag{{Key: aws.String(RunLabel), Value: aws.String(run)}}}},
	})
	if err != nil {
		return "", fmt.Errorf("snapshot %s: %w", vol, awsWrite(err))
	}
	return aws.ToString(created.SnapshotId), nil
}

// awsWrite marks an EC2 call refused for the account's request rate as
// transient, so that the engine makes it again after a backoff (the SDK
// has already retried it a few times); throttling says nothing about the
// call itself. The writes of the hand-off are idempotent.
func awsWrite(err error) error {
	if bgaws.Throttled(err) {
		return engine.Transient(err)
	}
	return err
}

func values(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	sort.Strings(out)
	return out
}
