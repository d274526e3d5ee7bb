package awsfake_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/smithy-go"

	"github.com/bluegreen/bluegreen/test/awsfake"
)

// DescribeSnapshots lists, as EC2 does, the caller's snapshots and other
// accounts' public ones when no owner is given, and only the caller's with
// OwnerIds=self; another account's private snapshot is never listed.
func TestDescribeSnapshotsHonoursOwnerIds(t *testing.T) {
	srv := awsfake.New(awsfake.Options{}).StartT(t)
	c := ec2.NewFromConfig(srv.AWSConfig())
	vol, err := srv.AddVolume(awsfake.Volume{AZ: "us-east-1a", Size: 10})
	if err != nil {
		t.Fatal(err)
	}
	mine := srv.AddSnapshot(awsfake.Snapshot{VolumeID: vol})
	public := srv.AddSnapshot(awsfake.Snapshot{VolumeID: vol, OwnerID: "999999999999", Public: true})
	srv.AddSnapshot(awsfake.Snapshot{VolumeID: vol, OwnerID: "999999999999"})
	tests := []struct {
		name   string
		owners []string
		want   []string
	}{
		{"no owner", nil, []string{mine, public}},
		{"self", []string{"self"}, []string{mine}},
		{"the other account", []string{"999999999999"}, []string{public}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := c.DescribeSnapshots(context.Background(), &ec2.DescribeSnapshotsInput{OwnerIds: tt.owners})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, s := range out.Snapshots {
				got = append(got, aws.ToString(s.SnapshotId))
			}
			slices.Sort(got)
			slices.Sort(tt.want)
			if !slices.Equal(got, tt.want) {
				t.Fatalf("snapshots %v, want %v", got, tt.want)
			}
		})
	}
}

// A throttled action answers RequestLimitExceeded, which the SDK knows as
// a throttling error, until its count is used up.
func TestThrottledActionAnswersRequestLimitExceeded(t *testing.T) {
	srv := awsfake.New(awsfake.Options{}).StartT(t)
	c := ec2.NewFromConfig(srv.AWSConfig(), func(o *ec2.Options) { o.Retryer = aws.NopRetryer{} })
	vol, err := srv.AddVolume(awsfake.Volume{AZ: "us-east-1a", Size: 10})
	if err != nil {
		t.Fatal(err)
	}
	srv.Throttle("CreateSnapshot", 1)
	_, err = c.CreateSnapshot(context.Background(), &ec2.CreateSnapshotInput{VolumeId: aws.String(vol)})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "RequestLimitExceeded" || retry.IsErrorThrottles(retry.DefaultThrottles).IsErrorThrottle(err) != aws.TrueTernary {
		t.Fatalf("first CreateSnapshot: %v, want a RequestLimitExceeded throttle", err)
	}
	if _, err := c.CreateSnapshot(context.Background(), &ec2.CreateSnapshotInput{VolumeId: aws.String(vol)}); err != nil {
		t.Fatalf("second CreateSnapshot: %v", err)
	}
}
