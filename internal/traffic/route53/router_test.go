package route53_test

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/route53/types"

	"github.com/bluegreen/bluegreen/internal/traffic"
	"github.com/bluegreen/bluegreen/internal/traffic/route53"
	"github.com/bluegreen/bluegreen/test/awsfake"
)

func TestShiftSteps(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, awsfake.Options{})
	e.seed(t, 100, 0)
	tgt := e.target(nil)

	got, err := e.router.Observe(ctx, tgt)
	if err != nil || !reflect.DeepEqual(got, traffic.Split{"blue": 100, "green": 0}) {
		t.Fatalf("Observe before any shift = %v, %v; want blue=100,green=0", got, err)
	}
	for _, step := range []struct {
		blue, green int
	}{
		{90, 10},
		{90, 10}, // repeated: idempotent
		{50, 50},
		{0, 100},
		{100, 0}, // rollback
	} {
		want := traffic.Split{"blue": step.blue, "green": step.green}
		if err := e.router.Shift(ctx, tgt, want); err != nil {
			t.Fatalf("Shift %s: %v", want, err)
		}
		got, err := e.router.Observe(ctx, tgt)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("Observe after Shift %s = %v, %v", want, got, err)
		}
		sets := e.listed(t)
		if len(sets) != 2 {
			t.Fatalf("after Shift %s the zone holds %d weighted CNAMEs, want 2", want, len(sets))
		}
		for id, w := range map[string]int{"cluster-a": step.blue, "cluster-b": step.green} {
			rs := sets[id]
			if aws.ToInt64(rs.Weight) != int64(w) || aws.ToInt64(rs.TTL) != 60 {
				t.Fatalf("after Shift %s, %s has weight %d TTL %d; want weight %d TTL 60", want, id, aws.ToInt64(rs.Weight), aws.ToInt64(rs.TTL), w)
			}
		}
	}
	if changes, _ := e.rec.seen(); len(changes) != 5 {
		t.Fatalf("%d change batches for 5 shifts, want one each", len(changes))
	}
}

func TestShiftWaitsForInsync(t *testing.T) {
	ctx := context.Background()
	m := awsfake.NewManualClock(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
	start := m.Now()
	e := newEnv(t, awsfake.Options{Clock: m.Now, ChangeSyncDelay: 45 * time.Second})
	e.router.Clock = fakeClock{m}
	e.seed(t, 100, 0)

	if err := e.router.Shift(ctx, e.target(map[string]string{route53.PollIntervalOption: "1s"}), traffic.Split{"blue": 90, "green": 10}); err != nil {
		t.Fatalf("Shift: %v", err)
	}
	if waited := m.Now().Sub(start); waited < 45*time.Second || waited > 46*time.Second {
		t.Fatalf("Shift returned after %s of fake time, want 45s (the propagation delay) rounded up to the 1s poll", waited)
	}
	changes, statuses := e.rec.seen()
	if len(statuses) == 0 || statuses[len(statuses)-1] != types.ChangeStatusInsync {
		t.Fatalf("GetChange answers %v: Shift returned before INSYNC", statuses)
	}
	if n := slices.Index(statuses, types.ChangeStatusInsync); n != len(statuses)-1 || statuses[0] != types.ChangeStatusPending {
		t.Fatalf("GetChange answers %v, want PENDING until the last, INSYNC", statuses)
	}
	if s := e.changeStatus(t, changes[len(changes)-1]); s != types.ChangeStatusInsync {
		t.Fatalf("right after Shift the change is %s, want INSYNC", s)
	}
}

func TestShiftWaitsForInsyncRealClock(t *testing.T) {
	const delay = 150 * time.Millisecond
	e := newEnv(t, awsfake.Options{ChangeSyncDelay: delay})
	e.seed(t, 100, 0)
	start := time.Now()
	if err := e.router.Shift(context.Background(), e.target(nil), traffic.Split{"blue": 90, "green": 10}); err != nil {
		t.Fatalf("Shift: %v", err)
	}
	if took := time.Since(start); took < delay {
		t.Fatalf("Shift took %s, less than the %s propagation delay", took, delay)
	}
	changes, _ := e.rec.seen()
	if s := e.changeStatus(t, changes[len(changes)-1]); s != types.ChangeStatusInsync {
		t.Fatalf("right after Shift the change is %s, want INSYNC", s)
	}
}

func TestShiftSyncTimeout(t *testing.T) {
	for _, tc := range []struct {
		name  string
		fake  bool
		delay time.Duration
		opts  map[string]string
	}{
		{"fake clock", true, 5 * time.Minute, map[string]string{route53.SyncTimeoutOption: "2m", route53.PollIntervalOption: "1s"}},
		{"real clock", false, time.Hour, map[string]string{route53.SyncTimeoutOption: "50ms"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := awsfake.NewManualClock(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
			opts := awsfake.Options{ChangeSyncDelay: tc.delay}
			if tc.fake {
				opts.Clock = m.Now
			}
			e := newEnv(t, opts)
			if tc.fake {
				e.router.Clock = fakeClock{m}
			}
			e.seed(t, 100, 0)
			err := e.router.Shift(context.Background(), e.target(tc.opts), traffic.Split{"blue": 90, "green": 10})
			changes, _ := e.rec.seen()
			if !errors.Is(err, route53.ErrNotInsync) {
				t.Fatalf("Shift = %v, want ErrNotInsync", err)
			}
			wantErr(t, err, changes[len(changes)-1], "PENDING", "may still apply", route53.SyncTimeoutOption)
			// Route 53 accepted the batch: the new weights are there.
			if sets := e.listed(t); aws.ToInt64(sets["cluster-b"].Weight) != 10 {
				t.Fatalf("green weight %d after a timed-out shift, want 10", aws.ToInt64(sets["cluster-b"].Weight))
			}
		})
	}
}

func TestShiftCancelled(t *testing.T) {
	e := newEnv(t, awsfake.Options{ChangeSyncDelay: time.Hour})
	e.seed(t, 100, 0)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err := e.router.Shift(ctx, e.target(nil), traffic.Split{"blue": 90, "green": 10})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Shift = %v, want the context's error", err)
	}
	wantErr(t, err, "may still apply")
}

func TestShiftRejectsBadSplit(t *testing.T) {
	e := newEnv(t, awsfake.Options{})
	e.seed(t, 100, 0)
	for _, tc := range []struct {
		name  string
		split traffic.Split
		want  string
	}{
		{"sum below 100", traffic.Split{"blue": 80, "green": 10}, "sum to 90"},
		{"sum above 100", traffic.Split{"blue": 90, "green": 20}, "sum to 110"},
		{"negative", traffic.Split{"blue": 110, "green": -10}, "green=-10 is out of range"},
		{"unknown color", traffic.Split{"blue": 90, "red": 10}, `color "red" is not configured`},
		{"missing color", traffic.Split{"blue": 100}, `no share for color "green"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantErr(t, e.router.Shift(context.Background(), e.target(nil), tc.split), tc.want)
		})
	}
	if changes, _ := e.rec.seen(); len(changes) != 0 {
		t.Fatalf("a bad split reached Route 53: %d change batches", len(changes))
	}
}

func TestRegistered(t *testing.T) {
	e := newEnv(t, awsfake.Options{})
	e.seed(t, 100, 0)
	r, err := traffic.New(route53.Name, traffic.Deps{Route53: e.sdk})
	if err != nil {
		t.Fatalf("traffic.New: %v", err)
	}
	if got, err := r.Observe(context.Background(), e.target(nil)); err != nil || got["blue"] != 100 {
		t.Fatalf("Observe through the registry = %v, %v", got, err)
	}
	_, err = traffic.New(route53.Name, traffic.Deps{})
	wantErr(t, err, "router route53", "no Route 53 client", "traffic.Deps.Route53")
	_, err = traffic.New(route53.Name, traffic.Deps{Route53: e.srv})
	wantErr(t, err, "router route53", "no Route 53 client", "awscluster.Route53")
}

func TestShiftAPIErrorNamesZone(t *testing.T) {
	e := newEnv(t, awsfake.Options{})
	err := e.router.Shift(context.Background(), e.target(map[string]string{route53.ZoneOption: "ZNOSUCHZONE"}), traffic.Split{"blue": 100, "green": 0})
	wantErr(t, err, "ZNOSUCHZONE", "NoSuchHostedZone")
}
