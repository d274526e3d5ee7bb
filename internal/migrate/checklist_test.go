package migrate

import (
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// The checklist asks for one completed snapshot per volume: extra
// snapshots of one volume (a failed one and its replacement, or two
// completed) never make up for another volume without one.
func TestChecklistCountsCompletedSnapshotsPerVolume(t *testing.T) {
	snap := func(vol string, state ec2types.SnapshotState) ec2types.Snapshot {
		return ec2types.Snapshot{VolumeId: aws.String(vol), State: state}
	}
	vols := []string{"vol-1", "vol-2"}
	tests := []struct {
		name        string
		snaps       []ec2types.Snapshot
		wantMissing []string
	}{
		{"one each", []ec2types.Snapshot{snap("vol-1", "completed"), snap("vol-2", "completed")}, nil},
		{"two of one volume", []ec2types.Snapshot{snap("vol-1", "completed"), snap("vol-1", "completed")}, []string{"vol-2"}},
		{"failed and replaced", []ec2types.Snapshot{snap("vol-1", "error"), snap("vol-1", "completed"), snap("vol-2", "pending")}, []string{"vol-2"}},
		{"none", nil, vols},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := withoutCompletedSnapshot(tt.snaps, vols); !slices.Equal(got, tt.wantMissing) {
				t.Fatalf("volumes without a completed snapshot: %v, want %v", got, tt.wantMissing)
			}
		})
	}
}
