//go:build testbed

package run_test

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/bluegreen/bluegreen/internal/clock"
	"github.com/bluegreen/bluegreen/internal/engine"
	"github.com/bluegreen/bluegreen/internal/journal"
	"github.com/bluegreen/bluegreen/internal/kube"
	"github.com/bluegreen/bluegreen/internal/run"
	"github.com/bluegreen/bluegreen/test/testbed"
)

// Execute re-reads a journaled run once its Lease is held: a resume or
// promote that read the record before someone else carried the run on
// (and let the Lease go) must not act on the old record.
func TestExecuteRefusesARunChangedSinceRead(t *testing.T) {
	c := testbed.StartT(t, testbed.Options{Name: "run-execute"})
	store, err := journal.OpenBolt(filepath.Join(t.TempDir(), "journal.db"))
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)

	tests := []struct {
		name string
		// saved is the record in the journal when Execute takes the
		// Lease (nil: the run is new); read is what the caller holds.
		saved, read journal.RunState
		savedAt     time.Time
		wantStale   bool
	}{
		{name: "new run", read: journal.Running},
		{name: "unchanged", saved: journal.Paused, savedAt: t0, read: journal.Paused},
		{name: "carried on since", saved: journal.Succeeded, savedAt: t0.Add(time.Second), read: journal.Paused, wantStale: true},
		{name: "saved again in the same state", saved: journal.Paused, savedAt: t0.Add(time.Second), read: journal.Paused, wantStale: true},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := t.Context()
			id := journal.NewID(t0.Add(time.Duration(i) * time.Minute))
			read := &journal.Run{ID: id, Scope: journal.ScopeService, Namespace: "default", App: "app" + string(rune('a'+i)),
				State: tc.read, CreatedAt: t0, UpdatedAt: t0}
			if tc.saved != "" {
				saved := *read
				saved.State, saved.UpdatedAt = tc.saved, tc.savedAt
				if err := store.Save(ctx, &saved); err != nil {
					t.Fatal(err)
				}
			}
			x := &run.Runner{Store: store, Lease: c.Client, Fence: &kube.Fence{}, Clock: clock.Real{}, Log: slog.New(slog.DiscardHandler)}
			ran := false
			err := x.Execute(ctx, read, map[string]engine.Action{}, 0, func(context.Context, *engine.Engine) error {
				ran = true
				return nil
			})
			if tc.wantStale {
				if !errors.Is(err, run.ErrStale) || ran {
					t.Fatalf("Execute = %v, ran %v; want run.ErrStale and nothing run", err, ran)
				}
				return
			}
			if err != nil || !ran {
				t.Fatalf("Execute = %v, ran %v; want fn run", err, ran)
			}
		})
	}
}
