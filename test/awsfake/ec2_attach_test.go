package awsfake_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/bluegreen/bluegreen/test/awsfake"
)

const (
	instA = "i-0123456789abcdef0"
	volA  = "vol-0123456789abcdef0"
)

func attach(ctx context.Context, t *testing.T, c *ec2.Client, vol, inst string) {
	t.Helper()
	if _, err := c.AttachVolume(ctx, &ec2.AttachVolumeInput{VolumeId: aws.String(vol), InstanceId: aws.String(inst), Device: aws.String("/dev/sdf")}); err != nil {
		t.Fatalf("AttachVolume: %v", err)
	}
}

func TestAttachDelay(t *testing.T) {
	ctx := context.Background()
	clock := awsfake.NewManualClock(epoch)
	srv, c := newEC2(t, awsfake.Options{Clock: clock.Now, AttachDelay: 10 * time.Second})
	srv.AddInstance(instA, "us-east-1a")
	id := createVolume(ctx, t, c, "us-east-1a")
	attach(ctx, t, c, id, instA)

	tests := []struct {
		advance   time.Duration
		wantState types.VolumeAttachmentState
	}{
		{0, types.VolumeAttachmentStateAttaching},
		{9 * time.Second, types.VolumeAttachmentStateAttaching},
		{time.Second, types.VolumeAttachmentStateAttached},
	}
	for _, tt := range tests {
		clock.Advance(tt.advance)
		v := describeOne(ctx, t, c, id)
		if v.State != types.VolumeStateInUse || len(v.Attachments) != 1 || v.Attachments[0].State != tt.wantState {
			t.Fatalf("after %v more: volume %s, attachment %+v; want in-use, %s", tt.advance, v.State, v.Attachments, tt.wantState)
		}
	}
	_, err := c.AttachVolume(ctx, &ec2.AttachVolumeInput{VolumeId: aws.String(id), InstanceId: aws.String(instA), Device: aws.String("/dev/sdg")})
	wantAPIError(t, err, "VolumeInUse")
}

func TestHoldAttachment(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name       string
		hold       bool
		force      bool // force after the plain detach
		release    bool // release the hold instead of forcing
		forceFirst bool // force without a plain detach before
		wantState  types.VolumeState
		wantForced []string
	}{
		{name: "plain detach completes", wantState: types.VolumeStateAvailable},
		{name: "held detach is stuck", hold: true, wantState: types.VolumeStateInUse},
		{name: "forced detach of a stuck one completes", hold: true, force: true, wantState: types.VolumeStateAvailable, wantForced: []string{volA}},
		{name: "releasing the hold completes it", hold: true, release: true, wantState: types.VolumeStateAvailable},
		{name: "forced detach of a held attached volume", hold: true, forceFirst: true, wantState: types.VolumeStateAvailable, wantForced: []string{volA}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := awsfake.NewManualClock(epoch)
			srv, c := newEC2(t, awsfake.Options{Clock: clock.Now, DetachDelay: 5 * time.Second})
			srv.AddInstance(instA, "us-east-1a")
			if _, err := srv.AddVolume(awsfake.Volume{ID: volA, AZ: "us-east-1a", InstanceID: instA}); err != nil {
				t.Fatalf("AddVolume: %v", err)
			}
			srv.HoldAttachment(volA, tt.hold)
			if !tt.forceFirst {
				out, err := c.DetachVolume(ctx, &ec2.DetachVolumeInput{VolumeId: aws.String(volA)})
				if err != nil || out.State != types.VolumeAttachmentStateDetaching {
					t.Fatalf("DetachVolume: %v (%+v)", err, out)
				}
				clock.Advance(time.Hour)
			}
			if tt.hold {
				v := describeOne(ctx, t, c, volA)
				if !tt.forceFirst && (v.State != types.VolumeStateInUse || v.Attachments[0].State != types.VolumeAttachmentStateDetaching) {
					t.Fatalf("held volume after an hour: %s %+v, want in-use/detaching", v.State, v.Attachments)
				}
			}
			if tt.force || tt.forceFirst {
				if _, err := c.DetachVolume(ctx, &ec2.DetachVolumeInput{VolumeId: aws.String(volA), Force: aws.Bool(true)}); err != nil {
					t.Fatalf("forced DetachVolume: %v", err)
				}
			}
			if tt.release {
				srv.HoldAttachment(volA, false)
			}
			clock.Advance(5 * time.Second)
			if v := describeOne(ctx, t, c, volA); v.State != tt.wantState {
				t.Fatalf("state %s, want %s (attachments %+v)", v.State, tt.wantState, v.Attachments)
			}
			if got := srv.ForcedDetaches(); !slices.Equal(got, tt.wantForced) {
				t.Fatalf("ForcedDetaches = %v, want %v", got, tt.wantForced)
			}
		})
	}
}

func TestAddVolume(t *testing.T) {
	srv, c := newEC2(t, awsfake.Options{})
	srv.AddInstance(instA, "us-east-1a")
	tests := []struct {
		name      string
		vol       awsfake.Volume
		wantErr   bool
		wantState types.VolumeState
	}{
		{name: "available", vol: awsfake.Volume{ID: "vol-00000000000000001", AZ: "us-east-1b", Size: 20, Tags: map[string]string{"app": "db"}}, wantState: types.VolumeStateAvailable},
		{name: "attached", vol: awsfake.Volume{ID: volA, AZ: "us-east-1a", InstanceID: instA}, wantState: types.VolumeStateInUse},
		{name: "random id", vol: awsfake.Volume{AZ: "us-east-1a"}, wantState: types.VolumeStateAvailable},
		{name: "duplicate", vol: awsfake.Volume{ID: volA, AZ: "us-east-1a"}, wantErr: true},
		{name: "malformed", vol: awsfake.Volume{ID: "vol-x", AZ: "us-east-1a"}, wantErr: true},
		{name: "no zone", vol: awsfake.Volume{ID: "vol-00000000000000002"}, wantErr: true},
		{name: "unknown instance", vol: awsfake.Volume{ID: "vol-00000000000000003", AZ: "us-east-1a", InstanceID: "i-1"}, wantErr: true},
		{name: "zone mismatch", vol: awsfake.Volume{ID: "vol-00000000000000004", AZ: "us-east-1b", InstanceID: instA}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, err := srv.AddVolume(tt.vol)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("AddVolume(%+v) = %s, want an error", tt.vol, id)
				}
				return
			}
			if err != nil {
				t.Fatalf("AddVolume: %v", err)
			}
			v := describeOne(context.Background(), t, c, id)
			if v.State != tt.wantState || aws.ToString(v.AvailabilityZone) != tt.vol.AZ || len(v.Tags) != len(tt.vol.Tags) {
				t.Fatalf("volume %+v", v)
			}
		})
	}
}

func TestDeleteTags(t *testing.T) {
	ctx := context.Background()
	_, c := newEC2(t, awsfake.Options{})
	tag := func(k, v string) types.Tag { return types.Tag{Key: aws.String(k), Value: aws.String(v)} }
	tests := []struct {
		name string
		del  []types.Tag
		want []string // remaining keys
	}{
		{name: "by key", del: []types.Tag{{Key: aws.String("a")}}, want: []string{"b", "c"}},
		{name: "matching value", del: []types.Tag{tag("a", "1")}, want: []string{"b", "c"}},
		{name: "other value keeps it", del: []types.Tag{tag("a", "2")}, want: []string{"a", "b", "c"}},
		{name: "all", del: nil, want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := createVolume(ctx, t, c, "us-east-1a", tag("a", "1"), tag("b", "2"), tag("c", "3"))
			if _, err := c.DeleteTags(ctx, &ec2.DeleteTagsInput{Resources: []string{id}, Tags: tt.del}); err != nil {
				t.Fatalf("DeleteTags: %v", err)
			}
			var got []string
			for _, tg := range describeOne(ctx, t, c, id).Tags {
				got = append(got, aws.ToString(tg.Key))
			}
			slices.Sort(got)
			if !slices.Equal(got, tt.want) {
				t.Fatalf("tags left %v, want %v", got, tt.want)
			}
		})
	}
	_, err := c.DeleteTags(ctx, &ec2.DeleteTagsInput{Resources: []string{"vol-0999999999999999f"}})
	wantAPIError(t, err, "InvalidVolume.NotFound")
}
