package volume

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/bluegreen/bluegreen/internal/awscluster"
	"github.com/bluegreen/bluegreen/internal/batch"
)

// ec2Reads batches the waits' EC2 reads across lanes. EC2 throttles each
// API per account and region (a non-mutating call such as DescribeVolumes
// has a bucket of 100 requests that refills at 20 a second), so fifty lanes
// each polling their own volumes every 250 ms would ask 200 a second and
// be throttled, along with everything else in the account. Instead every
// lane that waits joins the next call, which asks for all their IDs at
// once: one DescribeVolumes and one DescribeSnapshots per interval at
// most, whatever the number of lanes.
type ec2Reads struct {
	volumes   *batch.Batcher[ec2types.Volume]
	snapshots *batch.Batcher[ec2types.Snapshot]
}

// filterValues is how many IDs go in one call's filter: EC2 takes up to
// 200 values per filter.
const filterValues = 200

func newEC2Reads(c awscluster.EC2, interval time.Duration) *ec2Reads {
	return &ec2Reads{
		volumes: &batch.Batcher[ec2types.Volume]{Interval: interval, Fetch: func(ctx context.Context, ids []string) (map[string]ec2types.Volume, error) {
			out := map[string]ec2types.Volume{}
			for part := range slices.Chunk(ids, filterValues) {
				// A filter, not VolumeIds: one lane's unknown ID must not
				// fail the call for every other lane.
				pages := ec2.NewDescribeVolumesPaginator(c, &ec2.DescribeVolumesInput{
					Filters: []ec2types.Filter{{Name: aws.String("volume-id"), Values: part}}})
				for pages.HasMorePages() {
					page, err := pages.NextPage(ctx)
					if err != nil {
						return nil, fmt.Errorf("describe volumes: %w", err)
					}
					for _, v := range page.Volumes {
						out[aws.ToString(v.VolumeId)] = v
					}
				}
			}
			return out, nil
		}},
		snapshots: &batch.Batcher[ec2types.Snapshot]{Interval: interval, Fetch: func(ctx context.Context, ids []string) (map[string]ec2types.Snapshot, error) {
			out := map[string]ec2types.Snapshot{}
			for part := range slices.Chunk(ids, filterValues) {
				pages := ec2.NewDescribeSnapshotsPaginator(c, &ec2.DescribeSnapshotsInput{OwnerIds: []string{"self"},
					Filters: []ec2types.Filter{{Name: aws.String("snapshot-id"), Values: part}}})
				for pages.HasMorePages() {
					page, err := pages.NextPage(ctx)
					if err != nil {
						return nil, fmt.Errorf("describe snapshots: %w", err)
					}
					for _, s := range page.Snapshots {
						out[aws.ToString(s.SnapshotId)] = s
					}
				}
			}
			return out, nil
		}},
	}
}

// allFound reports the volumes EC2 does not know: a volume the plan names
// that is gone is not something waiting fixes.
func allFound(got map[string]ec2types.Volume, vols []string) error {
	var missing []string
	for _, id := range vols {
		if _, ok := got[id]; !ok {
			missing = append(missing, id)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("volumes %s: not found in EC2 (deleted, or in another account or region?)", strings.Join(missing, ", "))
	}
	return nil
}
