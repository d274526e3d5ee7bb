package engine

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bluegreen/bluegreen/internal/clock"
	"github.com/bluegreen/bluegreen/internal/journal"
)

// system is a tiny key/value world the test actions change, so that the
// engine's effects (and undos) can be asserted on state, not on call order.
type system struct {
	vals  map[string]string
	trace []string
	fail  map[string]error
}

func (s *system) setAction() Action {
	return Action{
		Capture: func(_ context.Context, x Exec) (any, error) { return s.vals[x.Step.Name], nil },
		Do: func(_ context.Context, x Exec) (any, error) {
			if err := s.fail[x.Step.Name]; err != nil {
				s.fail[x.Step.Name] = nil // fail once
				return nil, err
			}
			var p struct{ Value string }
			if err := x.Step.DecodeParams(&p); err != nil {
				return nil, err
			}
			s.vals[x.Step.Name] = p.Value
			s.trace = append(s.trace, "do "+x.Step.Name)
			return map[string]string{"set": p.Value}, nil
		},
		Undo: func(_ context.Context, x Exec) error {
			var before string
			if err := x.Step.DecodeBefore(&before); err != nil {
				return err
			}
			s.vals[x.Step.Name] = before
			s.trace = append(s.trace, "undo "+x.Step.Name)
			return nil
		},
	}
}

func newRun(names ...string) *journal.Run {
	r := &journal.Run{ID: "r1", App: "shop", State: journal.Running}
	for _, n := range names {
		r.Steps = append(r.Steps, journal.Step{Name: n, Kind: "set", State: journal.Pending, Params: []byte(`{"Value":"new-` + n + `"}`)})
	}
	return r
}

func newEngine(t *testing.T, sys *system) (*Engine, journal.Store) {
	t.Helper()
	store, err := journal.OpenBolt(filepath.Join(t.TempDir(), "j.db"))
	if err != nil {
		t.Fatal(err)
	}
	return &Engine{
		Store:   store,
		Actions: map[string]Action{"set": sys.setAction(), "gate": gateAction()},
		Clock:   clock.Real{},
		Log:     slog.New(slog.NewTextHandler(io.Discard, nil)),
	}, store
}

func gateAction() Action {
	return Action{Do: func(_ context.Context, x Exec) (any, error) {
		if !x.Run.Approved {
			return nil, ErrPaused
		}
		return nil, nil
	}}
}

func TestRunAndRollback(t *testing.T) {
	ctx := context.Background()
	sys := &system{vals: map[string]string{"a": "old-a", "b": "old-b"}, fail: map[string]error{}}
	e, store := newEngine(t, sys)
	r := newRun("a", "b")
	if err := e.Run(ctx, r); err != nil {
		t.Fatal(err)
	}
	if got := sys.vals; got["a"] != "new-a" || got["b"] != "new-b" {
		t.Fatalf("after run: %v", got)
	}
	saved, _ := store.Get(ctx, "r1")
	if saved.State != journal.Succeeded || saved.Steps[1].State != journal.Done || string(saved.Steps[1].Before) != `"old-b"` {
		t.Fatalf("journal after run: %+v", saved)
	}
	if err := e.Rollback(ctx, saved, "operator asked"); err != nil {
		t.Fatal(err)
	}
	if got := sys.vals; got["a"] != "old-a" || got["b"] != "old-b" {
		t.Fatalf("after rollback: %v", got)
	}
	want := []string{"do a", "do b", "undo b", "undo a"}
	if !reflect.DeepEqual(sys.trace, want) {
		t.Fatalf("trace = %v, want %v", sys.trace, want)
	}
}

func TestFailureRollsBackStartedSteps(t *testing.T) {
	tests := []struct {
		name      string
		failStep  string
		err       error
		wantState journal.RunState
		wantVals  map[string]string
	}{
		{"permanent failure undoes earlier steps", "b", errors.New("boom"), journal.RolledBack, map[string]string{"a": "old-a", "b": "old-b", "c": "old-c"}},
		{"transient failure is retried", "b", Transient(errors.New("conflict")), journal.Succeeded, map[string]string{"a": "new-a", "b": "new-b", "c": "new-c"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sys := &system{vals: map[string]string{"a": "old-a", "b": "old-b", "c": "old-c"}, fail: map[string]error{tt.failStep: tt.err}}
			e, _ := newEngine(t, sys)
			r := newRun("a", "b", "c")
			err := e.Run(context.Background(), r)
			if tt.wantState == journal.RolledBack && !errors.Is(err, ErrRolledBack) {
				t.Fatalf("Run error = %v, want ErrRolledBack", err)
			}
			if r.State != tt.wantState || !reflect.DeepEqual(sys.vals, tt.wantVals) {
				t.Fatalf("state %s vals %v; want %s %v", r.State, sys.vals, tt.wantState, tt.wantVals)
			}
		})
	}
}

func TestPauseThenApprove(t *testing.T) {
	ctx := context.Background()
	sys := &system{vals: map[string]string{}, fail: map[string]error{}}
	e, store := newEngine(t, sys)
	r := newRun("a")
	r.Steps = append(r.Steps, journal.Step{Name: "approve", Kind: "gate", State: journal.Pending})
	r.Steps = append(r.Steps, journal.Step{Name: "b", Kind: "set", State: journal.Pending, Params: []byte(`{"Value":"new-b"}`)})
	if err := e.Run(ctx, r); !errors.Is(err, ErrPaused) {
		t.Fatalf("Run = %v, want ErrPaused", err)
	}
	if sys.vals["b"] != "" {
		t.Fatal("step after the gate ran while paused")
	}
	saved, _ := store.Get(ctx, "r1")
	if saved.State != journal.Paused {
		t.Fatalf("journaled state %s, want paused", saved.State)
	}
	saved.Approved = true
	if err := e.Run(ctx, saved); err != nil {
		t.Fatal(err)
	}
	if sys.vals["b"] != "new-b" || saved.State != journal.Succeeded {
		t.Fatalf("after approval: %v %s", sys.vals, saved.State)
	}
}

// A step journaled as started (the process died after recording its
// before-state) is performed again on resume, and its before-state is kept.
func TestResumeStartedStep(t *testing.T) {
	ctx := context.Background()
	sys := &system{vals: map[string]string{"a": "new-a"}, fail: map[string]error{}}
	e, _ := newEngine(t, sys)
	r := newRun("a")
	r.Steps[0].State = journal.Started
	r.Steps[0].Before = []byte(`"old-a"`)
	if err := e.Run(ctx, r); err != nil {
		t.Fatal(err)
	}
	if string(r.Steps[0].Before) != `"old-a"` {
		t.Fatalf("before-state overwritten on resume: %s", r.Steps[0].Before)
	}
	if err := e.Rollback(ctx, r, ""); err != nil {
		t.Fatal(err)
	}
	if sys.vals["a"] != "old-a" {
		t.Fatalf("rollback restored %q, want old-a", sys.vals["a"])
	}
}

func TestAbortRequested(t *testing.T) {
	sys := &system{vals: map[string]string{"a": "old-a"}, fail: map[string]error{}}
	e, _ := newEngine(t, sys)
	ctx, cancel := context.WithCancelCause(context.Background())
	e.Actions["block"] = Action{Do: func(ctx context.Context, _ Exec) (any, error) {
		cancel(ErrAbortRequested)
		<-ctx.Done()
		return nil, context.Cause(ctx)
	}}
	r := newRun("a")
	r.Steps = append(r.Steps, journal.Step{Name: "wait", Kind: "block", State: journal.Pending})
	if err := e.Run(ctx, r); !errors.Is(err, ErrAborted) {
		t.Fatalf("Run = %v, want ErrAborted", err)
	}
	if r.State != journal.Aborted || sys.vals["a"] != "old-a" {
		t.Fatalf("state %s vals %v, want aborted and old-a", r.State, sys.vals)
	}
}

// A resumed run keeps the before-state a step recorded before it first
// acted: re-capturing it would record the step's own effect, and the undo
// would then restore that (a scale-down's 0 replicas instead of 3).
func TestResumeKeepsFirstBeforeState(t *testing.T) {
	for _, state := range []journal.StepState{journal.Errored, journal.Undoing, journal.Undone} {
		t.Run(string(state), func(t *testing.T) {
			// Given step a acted (the system holds its new value), then the
			// run was killed with a journaled as failed
			sys := &system{vals: map[string]string{"a": "new-a"}, fail: map[string]error{"b": errors.New("boom")}}
			e, _ := newEngine(t, sys)
			r := newRun("a", "b")
			r.Steps[0].State = state
			r.Steps[0].Before = []byte(`"orig-a"`)
			// When the run is resumed and a later step fails
			err := e.Run(context.Background(), r)
			if !errors.Is(err, ErrRolledBack) {
				t.Fatalf("Run: %v, want ErrRolledBack", err)
			}
			// Then the rollback restores what was there before a first acted
			if got := sys.vals["a"]; got != "orig-a" {
				t.Fatalf("a after rollback = %q, want orig-a (before-state re-captured as %s)", got, r.Steps[0].Before)
			}
		})
	}
}

// savedStates records, for every journal write, the state of each step.
type savedStates struct {
	journal.Store
	writes []map[string]journal.StepState
}

func (c *savedStates) Save(ctx context.Context, r *journal.Run) error {
	w := map[string]journal.StepState{}
	for _, s := range r.Steps {
		w[s.Name] = s.State
	}
	w["(run)"] = journal.StepState(r.State)
	c.writes = append(c.writes, w)
	return c.Store.Save(ctx, r)
}

// After a failed check the very next journal write is the switch back
// starting, and it carries the failure and the rolling-back state: no
// write for the failure, for entering rolling-back or for undoing steps
// that have nothing to undo stands between the check and the undo.
func TestSwitchBackIsTheWriteAfterTheFailure(t *testing.T) {
	ctx := context.Background()
	sys := &system{vals: map[string]string{"switch": "blue"}, fail: map[string]error{"check": errors.New("503 from /healthz")}}
	e, _ := newEngine(t, sys)
	store := &savedStates{Store: e.Store}
	e.Store = store
	check := Action{Do: func(_ context.Context, x Exec) (any, error) { return nil, sys.fail[x.Step.Name] }}
	e.Actions["check"] = check
	r := newRun("switch")
	r.Steps = append(r.Steps,
		journal.Step{Name: "watch", Kind: "check", State: journal.Pending},
		journal.Step{Name: "settle", Kind: "check", State: journal.Pending},
		journal.Step{Name: "check", Kind: "check", State: journal.Pending})
	sys.fail["watch"], sys.fail["settle"] = nil, nil
	if err := e.Run(ctx, r); err == nil {
		t.Fatal("run with a failing check succeeded")
	}
	if sys.vals["switch"] != "blue" {
		t.Fatalf("switch not undone: %v", sys.vals)
	}
	checked := -1
	for i, w := range store.writes {
		if w["check"] == journal.Started {
			checked = i
			break
		}
	}
	if checked < 0 || checked+1 >= len(store.writes) {
		t.Fatalf("no write after the check started: %v", store.writes)
	}
	if next := store.writes[checked+1]; next["switch"] != journal.Undoing || next["(run)"] != journal.StepState(journal.RollingBack) {
		t.Fatalf("write after the check started has switch %s and run %s, want undoing and rolling-back (writes %v)",
			next["switch"], next["(run)"], store.writes)
	}
	saved, err := store.Get(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range saved.Steps {
		if s.State != journal.Undone && s.Name != "check" {
			t.Fatalf("journal: step %s is %s after the rollback", s.Name, s.State)
		}
	}
	if saved.State != journal.RolledBack {
		t.Fatalf("journal: run is %s, want rolled-back", saved.State)
	}
}

// An undo that returns Keep leaves its change in place on purpose: the
// step counts as undone, the journal says why, and observers are told it
// was kept, not undone.
func TestUndoCanKeepItsChange(t *testing.T) {
	ctx := context.Background()
	sys := &system{vals: map[string]string{"a": "old-a", "b": "old-b"}, fail: map[string]error{}}
	e, store := newEngine(t, sys)
	set := e.Actions["set"]
	undo := set.Undo
	set.Undo = func(ctx context.Context, x Exec) error {
		if x.Step.Name == "a" {
			return Keep("a stays for re-testing")
		}
		return undo(ctx, x)
	}
	e.Actions["set"] = set
	var kinds []string
	e.Observe = func(ev Event) {
		if ev.Step != nil && (ev.Kind == StepKept || ev.Kind == StepUndone) {
			kinds = append(kinds, string(ev.Kind)+" "+ev.Step.Name)
		}
	}
	r := newRun("a", "b")
	if err := e.Run(ctx, r); err != nil {
		t.Fatal(err)
	}
	if err := e.Rollback(ctx, r, "operator asked"); err != nil {
		t.Fatal(err)
	}
	if sys.vals["a"] != "new-a" || sys.vals["b"] != "old-b" {
		t.Fatalf("after rollback: %v, want a kept and b undone", sys.vals)
	}
	if want := []string{"step-undone b", "step-kept a"}; !reflect.DeepEqual(kinds, want) {
		t.Fatalf("events %v, want %v", kinds, want)
	}
	saved, err := store.Get(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if a := saved.Step("a"); a.State != journal.Undone || a.Kept != "a stays for re-testing" || a.Error != "" {
		t.Fatalf("journal: step a %s kept %q error %q", a.State, a.Kept, a.Error)
	}
	if saved.State != journal.RolledBack {
		t.Fatalf("journal: run %s, want rolled-back", saved.State)
	}
}

// A step that is due later leaves the run waiting, journaled with when,
// its step started and nothing undone; a later Run does it and succeeds.
func TestDeferredStepLeavesTheRunWaiting(t *testing.T) {
	due := time.Date(2026, 12, 3, 10, 30, 0, 0, time.UTC)
	sys := &system{vals: map[string]string{}, fail: map[string]error{
		"scale-down": &Deferred{At: due, What: "old color scales down at 10:30"}}}
	e, st := newEngine(t, sys)
	r := newRun("switch", "scale-down")

	err := e.Run(t.Context(), r)

	if !errors.Is(err, ErrWaiting) {
		t.Fatalf("Run = %v, want ErrWaiting", err)
	}
	got, gerr := st.Get(t.Context(), r.ID)
	if gerr != nil || got.State != journal.Waiting || !got.DueAt.Equal(due) || got.Reason != "old color scales down at 10:30" {
		t.Fatalf("journaled %s due %s (%q), %v; want waiting due %s", got.State, got.DueAt, got.Reason, gerr, due)
	}
	if s := got.Step("scale-down"); s.State != journal.Started || s.Error != "" || sys.vals["switch"] != "new-switch" {
		t.Fatalf("step %s (%q), switch %q: want the step started, nothing failed or undone", s.State, s.Error, sys.vals["switch"])
	}

	if err := e.Run(t.Context(), r); err != nil {
		t.Fatalf("the later Run: %v", err)
	}
	if r.State != journal.Succeeded || !r.DueAt.IsZero() || sys.vals["scale-down"] != "new-scale-down" {
		t.Fatalf("after the later Run: %s due %s, value %q", r.State, r.DueAt, sys.vals["scale-down"])
	}
}

// A step whose Settled says the system already is as it would leave it is
// skipped: nothing is done, it has no write of its own, and a rollback
// undoes nothing of it.
func TestSettledStepIsSkipped(t *testing.T) {
	ctx := context.Background()
	sys := &system{vals: map[string]string{"a": "old-a", "b": "new-b"}, fail: map[string]error{}}
	e, _ := newEngine(t, sys)
	store := &savedStates{Store: e.Store}
	e.Store = store
	set := sys.setAction()
	set.Settled = func(_ context.Context, x Exec) (string, bool, error) {
		var p struct{ Value string }
		if err := x.Step.DecodeParams(&p); err != nil {
			return "", false, err
		}
		return x.Step.Name + " is " + p.Value + " already", sys.vals[x.Step.Name] == p.Value, nil
	}
	e.Actions["set"] = set
	r := newRun("a", "b", "c")
	sys.fail["c"] = errors.New("c refused")
	if err := e.Run(ctx, r); !errors.Is(err, ErrRolledBack) {
		t.Fatalf("run = %v, want it rolled back by c's failure", err)
	}
	if want := []string{"do a", "undo c", "undo a"}; !reflect.DeepEqual(sys.trace, want) {
		t.Fatalf("actions = %v, want %v: b was settled, so neither done nor undone (c failed half-way, so it is undone)", sys.trace, want)
	}
	if r.Steps[1].State != journal.Skipped {
		t.Fatalf("b is %s, want skipped", r.Steps[1].State)
	}
	for i, w := range store.writes {
		if w["b"] != journal.Pending && w["c"] == journal.Pending {
			t.Fatalf("write %d records b (%s) on its own; it should ride along with c's start: %v", i, w["b"], store.writes)
		}
	}
}

// Once the rollback's first write is on disk, the undos after it write
// nothing of their own: a rollback of three steps writes twice (the first
// undo's start, the end), and a rollback killed in between redoes the
// undos not yet recorded.
func TestRollbackWritesTwice(t *testing.T) {
	ctx := context.Background()
	sys := &system{vals: map[string]string{}, fail: map[string]error{}}
	e, _ := newEngine(t, sys)
	r := newRun("a", "b", "c")
	if err := e.Run(ctx, r); err != nil {
		t.Fatal(err)
	}
	store := &savedStates{Store: e.Store}
	e.Store = store
	if err := e.Rollback(ctx, r, "requested"); err != nil {
		t.Fatal(err)
	}
	if len(store.writes) != 2 {
		t.Fatalf("rollback of 3 steps wrote %d times, want 2: %v", len(store.writes), store.writes)
	}
	if first := store.writes[0]; first["c"] != journal.Undoing || first["(run)"] != journal.StepState(journal.RollingBack) {
		t.Fatalf("first write %v, want c undoing and the run rolling-back", first)
	}
	for _, n := range []string{"a", "b", "c"} {
		if sys.vals[n] != "" {
			t.Fatalf("%s = %q after the rollback, want it back to empty", n, sys.vals[n])
		}
	}

	// Killed after the first write: the journal says c is undoing; a new
	// engine redoes c's undo and goes on.
	sys2 := &system{vals: map[string]string{"a": "new-a", "b": "new-b", "c": "old-c"}, fail: map[string]error{}}
	e2, _ := newEngine(t, sys2)
	e2.Store = e.Store
	r2 := newRun("a", "b", "c")
	r2.ID = "r2"
	for i := range r2.Steps {
		r2.Steps[i].State, r2.Steps[i].Before = journal.Done, []byte(`""`)
	}
	r2.Steps[2].State, r2.State = journal.Undoing, journal.RollingBack
	if err := e2.Run(ctx, r2); err != nil {
		t.Fatal(err)
	}
	if want := []string{"undo c", "undo b", "undo a"}; !reflect.DeepEqual(sys2.trace, want) {
		t.Fatalf("resumed rollback did %v, want %v", sys2.trace, want)
	}
	if r2.State != journal.RolledBack {
		t.Fatalf("resumed rollback ended %s", r2.State)
	}
}

// An action's Report reaches the observers as a StepProgress event of its
// step; outside a step it does nothing.
func TestReportReachesObservers(t *testing.T) {
	ctx := context.Background()
	Report(ctx, "nobody listens: %d", 1) // no step, no panic
	sys := &system{vals: map[string]string{}, fail: map[string]error{}}
	e, _ := newEngine(t, sys)
	e.Actions["wait"] = Action{Do: func(ctx context.Context, x Exec) (any, error) {
		Report(ctx, "%d/%d pods ready; %s left", 1, 3, "4m")
		Report(ctx, "%d/%d pods ready; %s left", 3, 3, "3m")
		return nil, nil
	}}
	var notes []string
	e.Observe = func(ev Event) {
		if ev.Kind == StepProgress {
			notes = append(notes, ev.Step.Name+": "+ev.Note)
		}
	}
	r := &journal.Run{ID: "r1", App: "shop", State: journal.Running, Steps: []journal.Step{{Name: "wait-rollout", Kind: "wait", State: journal.Pending}}}
	if err := e.Run(ctx, r); err != nil {
		t.Fatal(err)
	}
	want := []string{"wait-rollout: 1/3 pods ready; 4m left", "wait-rollout: 3/3 pods ready; 3m left"}
	if !reflect.DeepEqual(notes, want) {
		t.Fatalf("progress = %q, want %q", notes, want)
	}
}

// A step's Settled, Capture and Do share what they read through Once: one
// read each step execution, none kept across steps, a failed read not
// kept, and outside a step (an undo) every call reads.
func TestOnceSharesAReadWithinAStep(t *testing.T) {
	ctx := context.Background()
	e, _ := newEngine(t, &system{vals: map[string]string{}, fail: map[string]error{}})
	reads := map[string]int{}
	failFirst := true
	read := func(x Exec) (int, error) {
		return Once(x, "count", func() (int, error) {
			reads[x.Step.Name]++
			if x.Step.Name == "b" && failFirst {
				failFirst = false
				return 0, errors.New("transient")
			}
			return 7, nil
		})
	}
	undoReads := 0
	e.Actions["set"] = Action{
		Settled: func(_ context.Context, x Exec) (string, bool, error) {
			_, err := read(x)
			return "", false, err
		},
		Capture: func(_ context.Context, x Exec) (any, error) { return read(x) },
		Do:      func(_ context.Context, x Exec) (any, error) { return read(x) },
		Undo: func(_ context.Context, x Exec) error {
			for range 2 {
				if _, err := Once(x, "count", func() (int, error) { undoReads++; return 1, nil }); err != nil {
					return err
				}
			}
			return nil
		},
	}
	r := newRun("a", "b")
	if err := e.Run(ctx, r); err == nil || !strings.Contains(err.Error(), "transient") {
		t.Fatalf("run = %v, want b's Settled to fail on its first read", err)
	}
	if reads["a"] != 1 {
		t.Fatalf("step a read %d times across Settled, Capture and Do, want once", reads["a"])
	}
	if undoReads != 2 {
		t.Fatalf("the undo read %d times in two calls, want 2 (no step execution shares them)", undoReads)
	}
	r2 := newRun("b")
	r2.ID = "r2"
	if err := e.Run(ctx, r2); err != nil {
		t.Fatal(err)
	}
	if reads["b"] != 2 {
		t.Fatalf("step b read %d times (a failed read, then one for the step), want 2: a failed read is not kept", reads["b"])
	}
}

// A write refused because the object changed is retried from a new read
// (Forget), and the object a write returns is what Verify reads
// (Remember), so a step that writes once reads once.
func TestRetriedWriteReadsAfreshAndVerifyReadsTheWrite(t *testing.T) {
	ctx := context.Background()
	e, _ := newEngine(t, &system{vals: map[string]string{}, fail: map[string]error{}})
	reads, writes := 0, 0
	stored := 1 // the object's version on the server
	read := func(x Exec) (int, error) {
		return Once(x, "obj", func() (int, error) { reads++; return stored, nil })
	}
	var verified int
	e.Actions["set"] = Action{
		Capture: func(_ context.Context, x Exec) (any, error) {
			v, err := read(x)
			stored = 2 // someone writes between our read and our write
			return v, err
		},
		Do: func(_ context.Context, x Exec) (any, error) {
			seen, err := read(x)
			if err != nil {
				return nil, err
			}
			writes++
			if seen != stored {
				Forget(x, "obj")
				return nil, Transient(errors.New("conflict"))
			}
			stored++
			Remember(x, "obj", stored)
			return nil, nil
		},
		Verify: func(_ context.Context, x Exec) error {
			v, err := read(x)
			verified = v
			return err
		},
	}
	if err := e.Run(ctx, newRun("a")); err != nil {
		t.Fatal(err)
	}
	if writes != 2 || reads != 2 {
		t.Fatalf("%d writes from %d reads; want the conflict's retry to read again: 2 and 2", writes, reads)
	}
	if verified != 3 || reads != 2 {
		t.Fatalf("Verify read version %d, want 3: the object the write returned", verified)
	}
}

// blockingStore holds every write until release is closed, counting them.
type blockingStore struct {
	journal.Store
	release chan struct{}
	writes  atomic.Int32
}

func (b *blockingStore) Save(ctx context.Context, r *journal.Run) error {
	b.writes.Add(1)
	<-b.release
	return b.Store.Save(ctx, r)
}

// A step's Prefetch reads while the engine writes the step's start, and
// Do takes those reads; Do still acts only after the write. A read the
// Prefetch fails, Do makes itself.
func TestPrefetchReadsWhileTheStartIsWritten(t *testing.T) {
	tests := []struct {
		name          string
		prefetchFails bool
		wantReads     int32
	}{
		{name: "prefetched", wantReads: 1},
		{name: "prefetch failed", prefetchFails: true, wantReads: 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, store := newEngine(t, &system{vals: map[string]string{}, fail: map[string]error{}})
			bs := &blockingStore{Store: store, release: make(chan struct{})}
			e.Store = bs
			var reads atomic.Int32
			read := func(x Exec, fail bool) (int, error) {
				return Once(x, "count", func() (int, error) {
					reads.Add(1)
					if fail {
						return 0, errors.New("transient")
					}
					return 7, nil
				})
			}
			prefetched := make(chan struct{})
			var wroteBeforeDo int32
			e.Actions["set"] = Action{
				Prefetch: func(_ context.Context, x Exec) {
					_, _ = read(x, tc.prefetchFails)
					close(prefetched)
				},
				Do: func(_ context.Context, x Exec) (any, error) {
					wroteBeforeDo = bs.writes.Load()
					return read(x, false)
				},
			}
			go func() {
				// The start's write waits for the prefetch: they overlap.
				<-prefetched
				close(bs.release)
			}()
			r := newRun("a")
			if err := e.Run(context.Background(), r); err != nil {
				t.Fatal(err)
			}
			if wroteBeforeDo < 1 {
				t.Fatal("Do ran before the step's start was written")
			}
			if got := reads.Load(); got != tc.wantReads {
				t.Fatalf("read %d times, want %d", got, tc.wantReads)
			}
			if got, _ := r.Steps[0].Output.MarshalJSON(); string(got) != "7" {
				t.Fatalf("Do's output = %s, want the read's 7", got)
			}
		})
	}
}

// Two callers of Once for one key while its read is on its way share it.
func TestOnceWaitsForAReadOnItsWay(t *testing.T) {
	x := Exec{reads: &reads{vals: map[string]*readState{}}}
	started, finish := make(chan struct{}), make(chan struct{})
	var reads atomic.Int32
	slow := func() (int, error) {
		reads.Add(1)
		close(started)
		<-finish
		return 3, nil
	}
	done := make(chan int)
	go func() {
		v, _ := Once(x, "k", slow)
		done <- v
	}()
	<-started
	go func() {
		v, _ := Once(x, "k", func() (int, error) { reads.Add(1); return 4, nil })
		done <- v
	}()
	// Time for the second caller to arrive while the read is on its way
	// (arriving after it, it passes as well).
	time.Sleep(20 * time.Millisecond)
	close(finish)
	if a, b := <-done, <-done; a != 3 || b != 3 || reads.Load() != 1 {
		t.Fatalf("values %d and %d after %d reads; want 3 and 3 after one", a, b, reads.Load())
	}
}

// A rollback prefetches its undos' reads while its first write goes out;
// an undo takes them only if it starts within prefetchFresh of that.
func TestPrefetchUndoOverlapsTheRollbacksFirstWrite(t *testing.T) {
	tests := []struct {
		name string
		// slowUndoB is how long the undo of b, which comes before a's,
		// takes on the clock.
		slowUndoB time.Duration
		wantReads map[string]int32
	}{
		{name: "fresh", wantReads: map[string]int32{"a": 1, "b": 1}},
		{name: "an undo before took long", slowUndoB: 2 * prefetchFresh, wantReads: map[string]int32{"a": 2, "b": 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			sys := &system{vals: map[string]string{}, fail: map[string]error{}}
			e, store := newEngine(t, sys)
			clk := clock.NewFake(time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC))
			e.Clock = clk
			r := newRun("a", "b")
			if err := e.Run(ctx, r); err != nil {
				t.Fatal(err)
			}
			var mu sync.Mutex
			reads := map[string]int32{}
			read := func(x Exec) (int, error) {
				return Once(x, "state", func() (int, error) {
					mu.Lock()
					reads[x.Step.Name]++
					mu.Unlock()
					return 1, nil
				})
			}
			var prefetches sync.WaitGroup
			prefetches.Add(2)
			base := sys.setAction()
			e.Actions["set"] = Action{
				Do: base.Do,
				PrefetchUndo: func(_ context.Context, x Exec) {
					defer prefetches.Done()
					_, _ = read(x)
				},
				Undo: func(ctx context.Context, x Exec) error {
					if _, err := read(x); err != nil {
						return err
					}
					if x.Step.Name == "b" {
						clk.Advance(tc.slowUndoB)
					}
					return base.Undo(ctx, x)
				},
			}
			bs := &blockingStore{Store: store, release: make(chan struct{})}
			e.Store = bs
			go func() {
				// The first write waits for both prefetches: they overlap.
				prefetches.Wait()
				close(bs.release)
			}()
			if err := e.Rollback(ctx, r, "test"); err != nil {
				t.Fatal(err)
			}
			mu.Lock()
			defer mu.Unlock()
			for step, want := range tc.wantReads {
				if reads[step] != want {
					t.Fatalf("step %s read %d times, want %d (all: %v)", step, reads[step], want, reads)
				}
			}
			if r.State != journal.RolledBack || sys.vals["a"] != "" || sys.vals["b"] != "" {
				t.Fatalf("run %s, values %v; want rolled back to empty", r.State, sys.vals)
			}
		})
	}
}
