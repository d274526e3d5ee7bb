package awsfake_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/route53/types"

	"github.com/bluegreen/bluegreen/test/awsfake"
)

func newR53(t *testing.T, opts awsfake.Options) (*awsfake.Server, *route53.Client) {
	t.Helper()
	srv := awsfake.New(opts).StartT(t)
	return srv, route53.NewFromConfig(srv.AWSConfig())
}

func weighted(name, id string, weight int64, value string) types.ResourceRecordSet {
	return types.ResourceRecordSet{
		Name: aws.String(name), Type: types.RRTypeA, SetIdentifier: aws.String(id), Weight: aws.Int64(weight),
		TTL: aws.Int64(60), ResourceRecords: []types.ResourceRecord{{Value: aws.String(value)}},
	}
}

func change(action types.ChangeAction, rs types.ResourceRecordSet) types.Change {
	return types.Change{Action: action, ResourceRecordSet: &rs}
}

func changeBatch(ctx context.Context, c *route53.Client, zone string, changes ...types.Change) (*route53.ChangeResourceRecordSetsOutput, error) {
	return c.ChangeResourceRecordSets(ctx, &route53.ChangeResourceRecordSetsInput{
		HostedZoneId: aws.String(zone), ChangeBatch: &types.ChangeBatch{Changes: changes},
	})
}

// weights returns SetIdentifier -> Weight for the A records named name.
func weights(ctx context.Context, t *testing.T, c *route53.Client, zone, name string) map[string]int64 {
	t.Helper()
	out, err := c.ListResourceRecordSets(ctx, &route53.ListResourceRecordSetsInput{
		HostedZoneId: aws.String(zone), StartRecordName: aws.String(name), StartRecordType: types.RRTypeA,
	})
	if err != nil {
		t.Fatalf("ListResourceRecordSets: %v", err)
	}
	got := map[string]int64{}
	for _, rs := range out.ResourceRecordSets {
		if aws.ToString(rs.Name) == name && rs.Type == types.RRTypeA {
			got[aws.ToString(rs.SetIdentifier)] = aws.ToInt64(rs.Weight)
			if aws.ToInt64(rs.TTL) != 60 {
				t.Fatalf("TTL = %d, want 60", aws.ToInt64(rs.TTL))
			}
		}
	}
	return got
}

func TestChangeResourceRecordSetsSemantics(t *testing.T) {
	ctx := context.Background()
	clock := awsfake.NewManualClock(epoch)
	srv, c := newR53(t, awsfake.Options{Clock: clock.Now, ChangeSyncDelay: 60 * time.Second})
	zone := srv.AddHostedZone("example.com")
	const name = "app.example.com."

	out, err := changeBatch(ctx, c, zone,
		change(types.ChangeActionCreate, weighted(name, "blue", 100, "10.0.0.1")),
		change(types.ChangeActionCreate, weighted(name, "green", 0, "10.0.0.2")))
	if err != nil {
		t.Fatalf("create weighted pair: %v", err)
	}
	if out.ChangeInfo.Status != types.ChangeStatusPending || !out.ChangeInfo.SubmittedAt.Equal(epoch) {
		t.Fatalf("ChangeInfo %+v", out.ChangeInfo)
	}
	if got := weights(ctx, t, c, zone, name); len(got) != 2 || got["blue"] != 100 || got["green"] != 0 {
		t.Fatalf("weights %v", got)
	}

	// GetChange: PENDING until the delay passes, then INSYNC.
	get := func() types.ChangeStatus {
		t.Helper()
		g, err := c.GetChange(ctx, &route53.GetChangeInput{Id: out.ChangeInfo.Id})
		if err != nil {
			t.Fatalf("GetChange: %v", err)
		}
		return g.ChangeInfo.Status
	}
	if s := get(); s != types.ChangeStatusPending {
		t.Fatalf("status %s, want PENDING", s)
	}
	clock.Advance(60 * time.Second)
	if s := get(); s != types.ChangeStatusInsync {
		t.Fatalf("status %s, want INSYNC", s)
	}

	// An invalid batch changes nothing: the valid UPSERT is not applied.
	_, err = changeBatch(ctx, c, zone,
		change(types.ChangeActionUpsert, weighted(name, "blue", 0, "10.0.0.1")),
		change(types.ChangeActionCreate, weighted(name, "green", 100, "10.0.0.2")))
	wantAPIError(t, err, "InvalidChangeBatch")
	var icb *types.InvalidChangeBatch
	if !errors.As(err, &icb) || len(icb.Messages) != 1 {
		t.Fatalf("want InvalidChangeBatch with one message, got %v", err)
	}
	if got := weights(ctx, t, c, zone, name); got["blue"] != 100 || got["green"] != 0 {
		t.Fatalf("invalid batch changed weights: %v", got)
	}

	// DELETE of a missing set, and of a set with mismatched values.
	_, err = changeBatch(ctx, c, zone, change(types.ChangeActionDelete, weighted(name, "purple", 1, "10.0.0.3")))
	wantAPIError(t, err, "InvalidChangeBatch")
	_, err = changeBatch(ctx, c, zone, change(types.ChangeActionDelete, weighted(name, "green", 0, "10.9.9.9")))
	wantAPIError(t, err, "InvalidChangeBatch")

	// Mixing weighted and non-weighted sets of the same name and type.
	plain := types.ResourceRecordSet{Name: aws.String(name), Type: types.RRTypeA, TTL: aws.Int64(60),
		ResourceRecords: []types.ResourceRecord{{Value: aws.String("10.0.0.9")}}}
	_, err = changeBatch(ctx, c, zone, change(types.ChangeActionCreate, plain))
	wantAPIError(t, err, "InvalidChangeBatch")

	// Schema validation: weight range and SetIdentifier/Weight pairing.
	_, err = changeBatch(ctx, c, zone, change(types.ChangeActionUpsert, weighted(name, "blue", 256, "10.0.0.1")))
	wantAPIError(t, err, "InvalidInput")
	noID := weighted(name, "", 5, "10.0.0.1")
	noID.SetIdentifier = nil
	_, err = changeBatch(ctx, c, zone, change(types.ChangeActionUpsert, noID))
	wantAPIError(t, err, "InvalidInput")
	noWeight := weighted(name, "blue", 0, "10.0.0.1")
	noWeight.Weight = nil
	_, err = changeBatch(ctx, c, zone, change(types.ChangeActionUpsert, noWeight))
	wantAPIError(t, err, "InvalidInput")
	if got := weights(ctx, t, c, zone, name); got["blue"] != 100 || got["green"] != 0 {
		t.Fatalf("rejected batches changed weights: %v", got)
	}

	// Flip weights atomically in one batch.
	if _, err := changeBatch(ctx, c, zone,
		change(types.ChangeActionUpsert, weighted(name, "blue", 0, "10.0.0.1")),
		change(types.ChangeActionUpsert, weighted(name, "green", 255, "10.0.0.2"))); err != nil {
		t.Fatalf("flip: %v", err)
	}
	if got := weights(ctx, t, c, zone, name); got["blue"] != 0 || got["green"] != 255 {
		t.Fatalf("after flip: %v", got)
	}

	// DELETE with exact values, then the name has no A sets.
	if _, err := changeBatch(ctx, c, zone,
		change(types.ChangeActionDelete, weighted(name, "blue", 0, "10.0.0.1")),
		change(types.ChangeActionDelete, weighted(name, "green", 255, "10.0.0.2"))); err != nil {
		t.Fatalf("delete: %v", err)
	}
	if got := weights(ctx, t, c, zone, name); len(got) != 0 {
		t.Fatalf("after delete: %v", got)
	}

	_, err = changeBatch(ctx, c, "ZNOSUCHZONE", change(types.ChangeActionCreate, plain))
	wantAPIError(t, err, "NoSuchHostedZone")
	_, err = changeBatch(ctx, c, zone, change(types.ChangeActionCreate, types.ResourceRecordSet{
		Name: aws.String("app.other.org."), Type: types.RRTypeA, TTL: aws.Int64(60),
		ResourceRecords: []types.ResourceRecord{{Value: aws.String("10.0.0.9")}}}))
	wantAPIError(t, err, "InvalidChangeBatch")
}

func TestListResourceRecordSetsPaging(t *testing.T) {
	ctx := context.Background()
	_, c := newR53(t, awsfake.Options{})
	hz, err := c.CreateHostedZone(ctx, &route53.CreateHostedZoneInput{Name: aws.String("example.com"), CallerReference: aws.String("ref-1")})
	if err != nil {
		t.Fatalf("CreateHostedZone: %v", err)
	}
	zone := aws.ToString(hz.HostedZone.Id)
	if aws.ToString(hz.HostedZone.Name) != "example.com." || len(hz.DelegationSet.NameServers) == 0 {
		t.Fatalf("hosted zone %+v", hz.HostedZone)
	}
	if _, err := changeBatch(ctx, c, zone,
		change(types.ChangeActionCreate, weighted("a.example.com.", "x", 1, "10.0.0.1")),
		change(types.ChangeActionCreate, weighted("b.example.com.", "x", 1, "10.0.0.2"))); err != nil {
		t.Fatalf("create: %v", err)
	}
	// Sorted by reversed labels then type: example.com. NS, SOA, then a., b.
	var got []string
	in := &route53.ListResourceRecordSetsInput{HostedZoneId: aws.String(zone), MaxItems: aws.Int32(1)}
	for {
		out, err := c.ListResourceRecordSets(ctx, in)
		if err != nil {
			t.Fatalf("ListResourceRecordSets: %v", err)
		}
		for _, rs := range out.ResourceRecordSets {
			got = append(got, aws.ToString(rs.Name)+" "+string(rs.Type))
		}
		if !out.IsTruncated {
			break
		}
		in.StartRecordName, in.StartRecordType, in.StartRecordIdentifier = out.NextRecordName, out.NextRecordType, out.NextRecordIdentifier
	}
	want := []string{"example.com. NS", "example.com. SOA", "a.example.com. A", "b.example.com. A"}
	if len(got) != len(want) {
		t.Fatalf("got %v want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("got %v want %v", got, want)
		}
	}
	_, err = c.CreateHostedZone(ctx, &route53.CreateHostedZoneInput{Name: aws.String("example.com"), CallerReference: aws.String("ref-1")})
	wantAPIError(t, err, "HostedZoneAlreadyExists")
}

func TestResourceRecordSetsChangedWaiter(t *testing.T) {
	ctx := context.Background()
	srv, c := newR53(t, awsfake.Options{ChangeSyncDelay: 300 * time.Millisecond})
	zone := srv.AddHostedZone("example.com.")
	out, err := changeBatch(ctx, c, zone, change(types.ChangeActionUpsert, weighted("app.example.com.", "blue", 10, "10.0.0.1")))
	if err != nil {
		t.Fatalf("upsert: %v", err)
	}
	w := route53.NewResourceRecordSetsChangedWaiter(c, func(o *route53.ResourceRecordSetsChangedWaiterOptions) {
		o.MinDelay, o.MaxDelay = 50*time.Millisecond, 100*time.Millisecond
	})
	if err := w.Wait(ctx, &route53.GetChangeInput{Id: out.ChangeInfo.Id}, 10*time.Second); err != nil {
		t.Fatalf("ResourceRecordSetsChangedWaiter: %v", err)
	}
}
