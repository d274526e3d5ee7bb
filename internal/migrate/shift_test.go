package migrate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	r53sdk "github.com/aws/aws-sdk-go-v2/service/route53"
	"k8s.io/utils/ptr"

	"github.com/bluegreen/bluegreen/internal/awscluster"
	"github.com/bluegreen/bluegreen/internal/clock"
	"github.com/bluegreen/bluegreen/internal/engine"
	"github.com/bluegreen/bluegreen/internal/journal"
	"github.com/bluegreen/bluegreen/internal/plan"
	"github.com/bluegreen/bluegreen/internal/traffic"
	r53router "github.com/bluegreen/bluegreen/internal/traffic/route53"
	"github.com/bluegreen/bluegreen/test/awsfake"
)

const (
	shopRecord = "shop.example.com"
	blueLB     = "a-lb-123.us-east-1.elb.amazonaws.com"
	greenLB    = "b-lb-456.us-east-1.elb.amazonaws.com"
)

// shiftWorld is the AWS wire fake with the shop's weighted records at
// 100/0, and a shift action on a route53 router for the given values.
func shiftWorld(t *testing.T, blueValue, greenValue string) (*awsfake.Server, string, engine.Action) {
	t.Helper()
	fake := awsfake.New(awsfake.Options{}).StartT(t)
	zone := fake.AddHostedZone("example.com")
	err := fake.AddRecords(zone,
		awsfake.Record{Name: shopRecord, Type: "CNAME", TTL: 60, Values: []string{blueLB}, SetIdentifier: "blue", Weight: ptr.To[int64](100)},
		awsfake.Record{Name: shopRecord, Type: "CNAME", TTL: 60, Values: []string{greenLB}, SetIdentifier: "green", Weight: ptr.To[int64](0)})
	if err != nil {
		t.Fatal(err)
	}
	return fake, zone, Actions(shiftEnv(t, fake, zone, blueValue, greenValue))[plan.KindShift]
}

// shiftEnv is the cluster-scope Env of a shift on the fake's zone, with
// the spec's values for the shop record.
func shiftEnv(t *testing.T, fake *awsfake.Server, zone, blueValue, greenValue string) Env {
	t.Helper()
	clients := awscluster.FromConfig(fake.AWSConfig())
	target := traffic.Target{Name: shopRecord, Options: map[string]string{
		r53router.ZoneOption: zone, r53router.PollIntervalOption: "10ms",
		"blue.set-identifier": "blue", "blue.value": blueValue, "green.set-identifier": "green", "green.value": greenValue,
	}}
	return Env{AWS: clients, Router: r53router.New(clients.Route53), Records: []traffic.Target{target},
		Log: slog.New(slog.DiscardHandler), Clock: clock.Real{}}
}

// liveValues reads the shop's record sets: set identifier → "value weight".
func liveValues(t *testing.T, fake *awsfake.Server, zone string) map[string]string {
	t.Helper()
	out, err := r53sdk.NewFromConfig(fake.AWSConfig()).ListResourceRecordSets(context.Background(), &r53sdk.ListResourceRecordSetsInput{HostedZoneId: aws.String(zone)})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, rs := range out.ResourceRecordSets {
		if rs.SetIdentifier != nil && len(rs.ResourceRecords) == 1 {
			got[aws.ToString(rs.SetIdentifier)] = fmt.Sprintf("%s weight %d", aws.ToString(rs.ResourceRecords[0].Value), aws.ToInt64(rs.Weight))
		}
	}
	return got
}

// A shift whose spec gives a record set another value than the live one
// (a typo, or a record changed in the console) pauses before writing
// anything and names both values; the same value written differently (case,
// trailing dot) is no difference, and the shift goes ahead.
func TestShiftRefusesWhenARecordValueDiffersFromTheSpec(t *testing.T) {
	tests := []struct {
		name       string
		greenValue string
		wantPaused bool
	}{
		{"typo in green's value", "b-lb-465.us-east-1.elb.amazonaws.com", true},
		{"same value, other case and a trailing dot", "B-LB-456.us-east-1.elb.amazonaws.com.", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Given live records at 100/0 and a spec with green's value as given
			fake, zone, shift := shiftWorld(t, blueLB, tt.greenValue)
			before := liveValues(t, fake, zone)

			// When the first shift (10%) runs
			raw, _ := json.Marshal(plan.ShiftParams{Green: 10, Previous: 0})
			_, err := shift.Do(context.Background(), engine.Exec{Run: &journal.Run{ID: "run"}, Step: &journal.Step{Name: "shift-10", Kind: plan.KindShift, Params: raw}})

			// Then a differing value pauses the run with both values named, and nothing was written
			after := liveValues(t, fake, zone)
			if !tt.wantPaused {
				if err != nil {
					t.Fatalf("shift: %v", err)
				}
				if !strings.HasSuffix(after["green"], " weight 10") {
					t.Fatalf("green after the shift = %q, want weight 10", after["green"])
				}
				return
			}
			if !errors.Is(err, engine.ErrPaused) || !errors.Is(err, ErrRecordMismatch) || !strings.Contains(err.Error(), tt.greenValue) || !strings.Contains(err.Error(), greenLB) {
				t.Fatalf("err = %v, want a pause naming %s and %s", err, greenLB, tt.greenValue)
			}
			if after["green"] != before["green"] || after["blue"] != before["blue"] {
				t.Fatalf("records changed: before %v, after %v", before, after)
			}
		})
	}
}
