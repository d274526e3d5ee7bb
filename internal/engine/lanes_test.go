package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/bluegreen/bluegreen/internal/clock"
	"github.com/bluegreen/bluegreen/internal/journal"
)

// laneWorld is a concurrency-safe key/value world for parallel lanes.
type laneWorld struct {
	mu      sync.Mutex
	vals    map[string]string
	running int
	peak    int
	// barrier, when set, makes every "first" step wait until this many
	// lanes are inside their first step at once.
	barrier *sync.WaitGroup
	fail    string
}

func (w *laneWorld) action() Action {
	return Action{
		Capture: func(_ context.Context, x Exec) (any, error) {
			w.mu.Lock()
			defer w.mu.Unlock()
			return w.vals[x.Step.Name], nil
		},
		Do: func(ctx context.Context, x Exec) (any, error) {
			w.mu.Lock()
			w.running++
			w.peak = max(w.peak, w.running)
			w.mu.Unlock()
			defer func() { w.mu.Lock(); w.running--; w.mu.Unlock() }()
			if w.barrier != nil && x.Step.Params != nil && string(x.Step.Params) == `"first"` {
				w.barrier.Done()
				done := make(chan struct{})
				go func() { w.barrier.Wait(); close(done) }()
				select {
				case <-done:
				case <-time.After(30 * time.Second):
					return nil, errors.New("lanes did not run side by side")
				case <-ctx.Done():
					return nil, ctx.Err()
				}
			}
			if x.Step.Name == w.fail {
				return nil, fmt.Errorf("%s broke", x.Step.Name)
			}
			w.mu.Lock()
			w.vals[x.Step.Name] = "new"
			w.mu.Unlock()
			return nil, nil
		},
		Undo: func(_ context.Context, x Exec) error {
			var before string
			if err := x.Step.DecodeBefore(&before); err != nil {
				return err
			}
			w.mu.Lock()
			defer w.mu.Unlock()
			w.vals[x.Step.Name] = before
			return nil
		},
	}
}

// laneRun has a plain step, then lanes l0..l(n-1) of two steps each, then a
// plain step.
func laneRun(n int) *journal.Run {
	r := &journal.Run{ID: "lanes", App: "shop", State: journal.Running}
	r.Steps = append(r.Steps, journal.Step{Name: "before", Kind: "set", State: journal.Pending})
	for i := range n {
		lane := fmt.Sprintf("l%d", i)
		r.Steps = append(r.Steps,
			journal.Step{Name: lane + "-a", Kind: "set", Lane: lane, State: journal.Pending, Params: []byte(`"first"`)},
			journal.Step{Name: lane + "-b", Kind: "set", Lane: lane, State: journal.Pending})
	}
	r.Steps = append(r.Steps, journal.Step{Name: "after", Kind: "set", State: journal.Pending})
	return r
}

func laneEngine(t *testing.T, w *laneWorld, parallelism int) *Engine {
	t.Helper()
	store, err := journal.OpenBolt(filepath.Join(t.TempDir(), "j.db"))
	if err != nil {
		t.Fatal(err)
	}
	return &Engine{
		Store:       store,
		Actions:     map[string]Action{"set": w.action()},
		Clock:       clock.Real{},
		Log:         slog.New(slog.NewTextHandler(io.Discard, nil)),
		Parallelism: parallelism,
	}
}

func TestBlocks(t *testing.T) {
	r := laneRun(2)
	got := blocks(r.Steps)
	want := []block{{0, 1}, {1, 5}, {5, 6}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("blocks = %v, want %v", got, want)
	}
	if l := lanes(r.Steps, got[1]); !reflect.DeepEqual(l, [][]int{{1, 2}, {3, 4}}) {
		t.Fatalf("lanes = %v", l)
	}
}

func TestLanesRunSideBySide(t *testing.T) {
	const n = 4
	w := &laneWorld{vals: map[string]string{}, barrier: &sync.WaitGroup{}}
	w.barrier.Add(n)
	e := laneEngine(t, w, n)
	r := laneRun(n)
	if err := e.Run(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	for _, s := range r.Steps {
		if s.State != journal.Done || w.vals[s.Name] != "new" {
			t.Fatalf("step %s: state %s, value %q", s.Name, s.State, w.vals[s.Name])
		}
	}
	if w.peak < n {
		t.Fatalf("at most %d steps ran at once, want %d", w.peak, n)
	}
	assertJournaled(t, e, r)
}

// assertJournaled checks that the journal holds the run exactly as it is
// in memory: the encoder re-encodes only the steps the engine marked, so a
// change it missed would show here.
func assertJournaled(t *testing.T, e *Engine, r *journal.Run) {
	t.Helper()
	saved, err := e.Store.Get(context.Background(), r.ID)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := json.Marshal(saved)
	want, _ := json.Marshal(r)
	if !bytes.Equal(got, want) {
		t.Fatalf("journal differs from the run:\n got %s\nwant %s", got, want)
	}
}

func TestLanesRespectParallelism(t *testing.T) {
	w := &laneWorld{vals: map[string]string{}}
	e := laneEngine(t, w, 2)
	if err := e.Run(context.Background(), laneRun(6)); err != nil {
		t.Fatal(err)
	}
	if w.peak > 2 {
		t.Fatalf("%d steps ran at once with parallelism 2", w.peak)
	}
}

func TestLaneFailureRollsBackEveryLane(t *testing.T) {
	w := &laneWorld{vals: map[string]string{"before": "old", "l0-a": "old", "l1-b": "old"}, fail: "l1-b"}
	e := laneEngine(t, w, 2)
	r := laneRun(3)
	err := e.Run(context.Background(), r)
	if !errors.Is(err, ErrRolledBack) {
		t.Fatalf("err = %v, want rolled back", err)
	}
	if r.State != journal.RolledBack {
		t.Fatalf("run state %s", r.State)
	}
	for _, s := range r.Steps {
		if s.Name == "after" {
			if s.State != journal.Pending {
				t.Fatalf("step after the block ran: %s", s.State)
			}
			continue
		}
		if s.State == journal.Done || s.State == journal.Started {
			t.Fatalf("step %s left %s after rollback", s.Name, s.State)
		}
	}
	if w.vals["before"] != "old" || w.vals["l0-a"] != "old" {
		t.Fatalf("values not restored: %v", w.vals)
	}
	if r.Step("l1-b").Error == "" {
		t.Fatal("failed step's error not journaled")
	}
	assertJournaled(t, e, r)
}

// countingStore counts journal writes and lets a test read what is on disk.
type countingStore struct {
	journal.Store
	mu     sync.Mutex
	writes int
}

func (c *countingStore) Save(ctx context.Context, r *journal.Run) error {
	c.mu.Lock()
	c.writes++
	c.mu.Unlock()
	return c.Store.Save(ctx, r)
}

// Every step's started state is on disk before its action runs, even when
// lanes share journal writes.
func TestLanesJournalBeforeActing(t *testing.T) {
	w := &laneWorld{vals: map[string]string{}}
	e := laneEngine(t, w, 8)
	store := &countingStore{Store: e.Store}
	e.Store = store
	act := e.Actions["set"]
	var mu sync.Mutex
	var notOnDisk []string
	do := act.Do
	act.Do = func(ctx context.Context, x Exec) (any, error) {
		saved, err := store.Get(ctx, x.Run.ID)
		if err != nil {
			return nil, err
		}
		if s := saved.Step(x.Step.Name); s == nil || s.State != journal.Started {
			mu.Lock()
			notOnDisk = append(notOnDisk, x.Step.Name)
			mu.Unlock()
		}
		return do(ctx, x)
	}
	e.Actions["set"] = act
	r := laneRun(8)
	if err := e.Run(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	if len(notOnDisk) > 0 {
		t.Fatalf("steps acted before their start was journaled: %v", notOnDisk)
	}
	saved, err := store.Get(context.Background(), r.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range saved.Steps {
		if s.State != journal.Done {
			t.Fatalf("journal: step %s is %s after the run", s.Name, s.State)
		}
	}
	if commits := 2*len(r.Steps) + 2; store.writes > commits {
		t.Fatalf("%d journal writes for %d commits", store.writes, commits)
	}
}
