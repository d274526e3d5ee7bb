package awsfake_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"

	"github.com/bluegreen/bluegreen/test/awsfake"
)

var epoch = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func sdkConfig(url string) aws.Config {
	return aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", ""),
		BaseEndpoint: aws.String(url),
	}
}

func newEC2(t *testing.T, opts awsfake.Options) (*awsfake.Server, *ec2.Client) {
	t.Helper()
	srv := awsfake.New(opts).StartT(t)
	return srv, ec2.NewFromConfig(sdkConfig(srv.URL()))
}

// wantAPIError asserts err is a smithy API error with the given code.
func wantAPIError(t *testing.T, err error, code string) {
	t.Helper()
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) {
		t.Fatalf("want API error %s, got %v", code, err)
	}
	if apiErr.ErrorCode() != code {
		t.Fatalf("want error code %s, got %s (%s)", code, apiErr.ErrorCode(), apiErr.ErrorMessage())
	}
}

func createVolume(ctx context.Context, t *testing.T, c *ec2.Client, az string, tags ...types.Tag) string {
	t.Helper()
	out, err := c.CreateVolume(ctx, &ec2.CreateVolumeInput{
		AvailabilityZone: aws.String(az),
		Size:             aws.Int32(10),
		VolumeType:       types.VolumeTypeGp3,
		TagSpecifications: []types.TagSpecification{{
			ResourceType: types.ResourceTypeVolume, Tags: tags,
		}},
	})
	if err != nil {
		t.Fatalf("CreateVolume: %v", err)
	}
	return aws.ToString(out.VolumeId)
}

func describeOne(ctx context.Context, t *testing.T, c *ec2.Client, id string) types.Volume {
	t.Helper()
	out, err := c.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{VolumeIds: []string{id}})
	if err != nil {
		t.Fatalf("DescribeVolumes(%s): %v", id, err)
	}
	if len(out.Volumes) != 1 {
		t.Fatalf("DescribeVolumes(%s): got %d volumes", id, len(out.Volumes))
	}
	return out.Volumes[0]
}

func TestVolumeAttachDetachDelete(t *testing.T) {
	ctx := context.Background()
	clock := awsfake.NewManualClock(epoch)
	srv, c := newEC2(t, awsfake.Options{Clock: clock.Now, DetachDelay: 30 * time.Second})
	srv.AddInstance("i-0123456789abcdef0", "us-east-1a")
	srv.AddInstance("i-0fedcba9876543210", "us-east-1a")

	id := createVolume(ctx, t, c, "us-east-1a", types.Tag{Key: aws.String("app"), Value: aws.String("db")})
	if len(id) != len("vol-")+17 {
		t.Fatalf("volume id %q: want vol- + 17 hex", id)
	}
	v := describeOne(ctx, t, c, id)
	if v.State != types.VolumeStateAvailable || aws.ToInt32(v.Size) != 10 || v.VolumeType != types.VolumeTypeGp3 ||
		aws.ToString(v.AvailabilityZone) != "us-east-1a" || len(v.Tags) != 1 || !v.CreateTime.Equal(epoch) {
		t.Fatalf("unexpected volume %+v", v)
	}

	att, err := c.AttachVolume(ctx, &ec2.AttachVolumeInput{VolumeId: aws.String(id), InstanceId: aws.String("i-0123456789abcdef0"), Device: aws.String("/dev/sdf")})
	if err != nil {
		t.Fatalf("AttachVolume: %v", err)
	}
	if att.State != types.VolumeAttachmentStateAttaching {
		t.Fatalf("attach state %q", att.State)
	}
	v = describeOne(ctx, t, c, id)
	if v.State != types.VolumeStateInUse || len(v.Attachments) != 1 || v.Attachments[0].State != types.VolumeAttachmentStateAttached ||
		aws.ToString(v.Attachments[0].InstanceId) != "i-0123456789abcdef0" {
		t.Fatalf("after attach: %+v", v)
	}

	_, err = c.AttachVolume(ctx, &ec2.AttachVolumeInput{VolumeId: aws.String(id), InstanceId: aws.String("i-0fedcba9876543210"), Device: aws.String("/dev/sdg")})
	wantAPIError(t, err, "VolumeInUse")

	_, err = c.DeleteVolume(ctx, &ec2.DeleteVolumeInput{VolumeId: aws.String(id)})
	wantAPIError(t, err, "VolumeInUse")

	det, err := c.DetachVolume(ctx, &ec2.DetachVolumeInput{VolumeId: aws.String(id)})
	if err != nil {
		t.Fatalf("DetachVolume: %v", err)
	}
	if det.State != types.VolumeAttachmentStateDetaching {
		t.Fatalf("detach state %q", det.State)
	}
	v = describeOne(ctx, t, c, id)
	if v.State != types.VolumeStateInUse || len(v.Attachments) != 1 || v.Attachments[0].State != types.VolumeAttachmentStateDetaching {
		t.Fatalf("while detaching: %+v", v)
	}
	_, err = c.DetachVolume(ctx, &ec2.DetachVolumeInput{VolumeId: aws.String(id)})
	wantAPIError(t, err, "IncorrectState")
	if _, err := c.DetachVolume(ctx, &ec2.DetachVolumeInput{VolumeId: aws.String(id), Force: aws.Bool(true)}); err != nil {
		t.Fatalf("forced DetachVolume of a detaching volume: %v", err)
	}

	clock.Advance(29 * time.Second)
	if v = describeOne(ctx, t, c, id); v.State != types.VolumeStateInUse {
		t.Fatalf("before DetachDelay: state %q", v.State)
	}
	clock.Advance(time.Second)
	if v = describeOne(ctx, t, c, id); v.State != types.VolumeStateAvailable || len(v.Attachments) != 0 {
		t.Fatalf("after DetachDelay: %+v", v)
	}
	_, err = c.DetachVolume(ctx, &ec2.DetachVolumeInput{VolumeId: aws.String(id)})
	wantAPIError(t, err, "IncorrectState")

	if got := srv.DeletedVolumes(); len(got) != 0 {
		t.Fatalf("DeletedVolumes = %v, want none", got)
	}
	if _, err := c.DeleteVolume(ctx, &ec2.DeleteVolumeInput{VolumeId: aws.String(id)}); err != nil {
		t.Fatalf("DeleteVolume: %v", err)
	}
	if got := srv.DeletedVolumes(); !slices.Equal(got, []string{id}) {
		t.Fatalf("DeletedVolumes = %v, want [%s]", got, id)
	}
	_, err = c.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{VolumeIds: []string{id}})
	wantAPIError(t, err, "InvalidVolume.NotFound")
}

func TestAttachErrors(t *testing.T) {
	ctx := context.Background()
	clock := awsfake.NewManualClock(epoch)
	srv, c := newEC2(t, awsfake.Options{Clock: clock.Now, VolumeCreateDelay: 5 * time.Second})
	srv.AddInstance("i-a", "us-east-1a")

	other := createVolume(ctx, t, c, "us-east-1b")
	creating := createVolume(ctx, t, c, "us-east-1a")
	_, err := c.AttachVolume(ctx, &ec2.AttachVolumeInput{VolumeId: aws.String(creating), InstanceId: aws.String("i-a"), Device: aws.String("/dev/sdf")})
	wantAPIError(t, err, "IncorrectState")

	clock.Advance(5 * time.Second)
	_, err = c.AttachVolume(ctx, &ec2.AttachVolumeInput{VolumeId: aws.String(other), InstanceId: aws.String("i-a"), Device: aws.String("/dev/sdf")})
	wantAPIError(t, err, "InvalidVolume.ZoneMismatch")
	_, err = c.AttachVolume(ctx, &ec2.AttachVolumeInput{VolumeId: aws.String(creating), InstanceId: aws.String("i-missing"), Device: aws.String("/dev/sdf")})
	wantAPIError(t, err, "InvalidInstanceID.NotFound")
	_, err = c.AttachVolume(ctx, &ec2.AttachVolumeInput{VolumeId: aws.String("vol-0123456789abcdef0"), InstanceId: aws.String("i-a"), Device: aws.String("/dev/sdf")})
	wantAPIError(t, err, "InvalidVolume.NotFound")
	_, err = c.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{VolumeIds: []string{"vol-0123456789abcdef0"}})
	wantAPIError(t, err, "InvalidVolume.NotFound")
}

func TestDescribeVolumesFiltersAndTags(t *testing.T) {
	ctx := context.Background()
	srv, c := newEC2(t, awsfake.Options{})
	srv.AddInstance("i-a", "us-east-1a")
	blue := createVolume(ctx, t, c, "us-east-1a", types.Tag{Key: aws.String("color"), Value: aws.String("blue")})
	green := createVolume(ctx, t, c, "us-east-1b", types.Tag{Key: aws.String("color"), Value: aws.String("green")})
	plain := createVolume(ctx, t, c, "us-east-1a")
	if _, err := c.AttachVolume(ctx, &ec2.AttachVolumeInput{VolumeId: aws.String(plain), InstanceId: aws.String("i-a"), Device: aws.String("/dev/sdf")}); err != nil {
		t.Fatalf("AttachVolume: %v", err)
	}
	if _, err := c.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{plain}, Tags: []types.Tag{{Key: aws.String("color"), Value: aws.String("blue-ish")}}}); err != nil {
		t.Fatalf("CreateTags: %v", err)
	}

	ids := func(filters ...types.Filter) []string {
		t.Helper()
		out, err := c.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{Filters: filters})
		if err != nil {
			t.Fatalf("DescribeVolumes: %v", err)
		}
		var got []string
		for _, v := range out.Volumes {
			got = append(got, aws.ToString(v.VolumeId))
		}
		slices.Sort(got)
		return got
	}
	sorted := func(s ...string) []string { slices.Sort(s); return s }
	f := func(name string, values ...string) types.Filter {
		return types.Filter{Name: aws.String(name), Values: values}
	}

	if got, want := ids(f("status", "available")), sorted(blue, green); !slices.Equal(got, want) {
		t.Errorf("status=available: got %v want %v", got, want)
	}
	if got, want := ids(f("availability-zone", "us-east-1a")), sorted(blue, plain); !slices.Equal(got, want) {
		t.Errorf("az: got %v want %v", got, want)
	}
	if got, want := ids(f("tag:color", "blue", "green")), sorted(blue, green); !slices.Equal(got, want) {
		t.Errorf("tag:color OR: got %v want %v", got, want)
	}
	if got, want := ids(f("tag:color", "blue*"), f("status", "in-use")), []string{plain}; !slices.Equal(got, want) {
		t.Errorf("wildcard AND status: got %v want %v", got, want)
	}
	_, err := c.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{Filters: []types.Filter{f("bogus", "x")}})
	wantAPIError(t, err, "InvalidParameterValue")
	_, err = c.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{"vol-0123456789abcdef0"}, Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}})
	wantAPIError(t, err, "InvalidVolume.NotFound")
}

func TestSnapshots(t *testing.T) {
	ctx := context.Background()
	clock := awsfake.NewManualClock(epoch)
	_, c := newEC2(t, awsfake.Options{Clock: clock.Now, SnapshotDelay: time.Minute})
	vol := createVolume(ctx, t, c, "us-east-1a")
	out, err := c.CreateSnapshot(ctx, &ec2.CreateSnapshotInput{
		VolumeId: aws.String(vol), Description: aws.String("pre-switch"),
		TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeSnapshot, Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}}},
	})
	if err != nil {
		t.Fatalf("CreateSnapshot: %v", err)
	}
	snap := aws.ToString(out.SnapshotId)
	if len(snap) != len("snap-")+17 || out.State != types.SnapshotStatePending || aws.ToString(out.VolumeId) != vol || aws.ToInt32(out.VolumeSize) != 10 {
		t.Fatalf("unexpected snapshot %+v", out)
	}
	desc := func() types.Snapshot {
		t.Helper()
		d, err := c.DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{Filters: []types.Filter{{Name: aws.String("tag:k"), Values: []string{"v"}}}})
		if err != nil || len(d.Snapshots) != 1 {
			t.Fatalf("DescribeSnapshots: %v (%d)", err, len(d.Snapshots))
		}
		return d.Snapshots[0]
	}
	if s := desc(); s.State != types.SnapshotStatePending {
		t.Fatalf("state %q before delay", s.State)
	}
	clock.Advance(time.Minute)
	if s := desc(); s.State != types.SnapshotStateCompleted || aws.ToString(s.Progress) != "100%" {
		t.Fatalf("after delay: %+v", s)
	}
	_, err = c.DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{SnapshotIds: []string{"snap-0123456789abcdef0"}})
	wantAPIError(t, err, "InvalidSnapshot.NotFound")
}

func TestVolumeAvailableWaiter(t *testing.T) {
	ctx := context.Background()
	_, c := newEC2(t, awsfake.Options{VolumeCreateDelay: 300 * time.Millisecond})
	id := createVolume(ctx, t, c, "us-east-1a")
	if v := describeOne(ctx, t, c, id); v.State != types.VolumeStateCreating {
		t.Fatalf("state %q, want creating", v.State)
	}
	w := ec2.NewVolumeAvailableWaiter(c, func(o *ec2.VolumeAvailableWaiterOptions) {
		o.MinDelay, o.MaxDelay = 50*time.Millisecond, 100*time.Millisecond
	})
	if err := w.Wait(ctx, &ec2.DescribeVolumesInput{VolumeIds: []string{id}}, 10*time.Second); err != nil {
		t.Fatalf("VolumeAvailableWaiter: %v", err)
	}
}
