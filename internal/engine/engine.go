package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/bluegreen/bluegreen/internal/clock"
	"github.com/bluegreen/bluegreen/internal/journal"
)

// Sentinel errors callers branch on.
var (
	// ErrPaused means the run stopped at an approval gate; `promote` continues it.
	ErrPaused = errors.New("run paused for approval")
	// ErrRolledBack means a step failed and the run was rolled back.
	ErrRolledBack = errors.New("run rolled back")
	// ErrAbortRequested is the cancel cause when someone asked the run to abort.
	ErrAbortRequested = errors.New("abort requested")
	// ErrInterrupted means the run was cancelled (signal) and can be resumed.
	ErrInterrupted = errors.New("run interrupted")
	// ErrAborted means the run was stopped on request and its steps undone.
	ErrAborted = errors.New("run aborted")
	// ErrWaiting means a step is due later: the run is journaled waiting,
	// and no process needs to stay for it (see Deferred).
	ErrWaiting = errors.New("run waits for a step due later")
)

// Exec is what an action sees: the run and the step being executed.
type Exec struct {
	Run  *journal.Run
	Step *journal.Step
	// reads are what this execution of the step read once (see Once);
	// nil outside a step's execution.
	reads *reads
}

type reads struct {
	mu   sync.Mutex
	vals map[string]*readState
}

// read is one key's value, or a read of it still on its way.
type readState struct {
	done chan struct{} // closed when val and err are set
	val  any
	err  error
}

// Once returns read's value for key, reading it once for one execution of
// a step: its Prefetch, Settled, Capture and Do then share one read of the
// cluster instead of one each (they run milliseconds apart, and a resumed
// step is a new execution that reads afresh). A read of key still on its
// way (a Prefetch's) is waited for. Errors are not kept: the next caller
// reads again. Outside a step's execution (an undo, a dry run) it reads
// every time.
func Once[T any](x Exec, key string, read func() (T, error)) (T, error) {
	if x.reads == nil {
		return read()
	}
	for {
		x.reads.mu.Lock()
		r, ok := x.reads.vals[key]
		if !ok {
			r = &readState{done: make(chan struct{})}
			x.reads.vals[key] = r
			x.reads.mu.Unlock()
			t, err := read()
			r.val, r.err = t, err
			if err != nil {
				x.reads.mu.Lock()
				if x.reads.vals[key] == r {
					delete(x.reads.vals, key)
				}
				x.reads.mu.Unlock()
			}
			close(r.done)
			return t, err
		}
		x.reads.mu.Unlock()
		<-r.done
		if t, isT := r.val.(T); r.err == nil && isT {
			return t, nil
		}
		// The read on its way failed (or was of another type): read anew.
		if r.err == nil {
			return read()
		}
	}
}

// Remember sets key's value for the rest of the step's execution: the
// object a write returns is the object as now stored, which a later read
// of the execution (Verify's) takes instead of reading it again. Outside a
// step's execution it does nothing.
func Remember[T any](x Exec, key string, v T) {
	if x.reads == nil {
		return
	}
	r := &readState{done: make(chan struct{}), val: v}
	close(r.done)
	x.reads.mu.Lock()
	x.reads.vals[key] = r
	x.reads.mu.Unlock()
}

// Forget drops key's value, so that the next Once reads afresh: after a
// write was refused because the object changed since it was read, the
// engine's retry must not write from the same stale read.
func Forget(x Exec, key string) {
	if x.reads == nil {
		return
	}
	x.reads.mu.Lock()
	delete(x.reads.vals, key)
	x.reads.mu.Unlock()
}

// Action executes the steps of one kind. Nil funcs are skipped. An action
// must not change the run's steps itself: the engine records every change
// of a step (and encodes only those). Do and Undo must be idempotent: a resumed run repeats the action of a step that was
// started but not recorded done, and a resumed rollback repeats an undo.
type Action struct {
	// Precondition must hold before the step starts.
	Precondition func(ctx context.Context, x Exec) error
	// Capture returns the before-state Undo needs; it is journaled before Do.
	Capture func(ctx context.Context, x Exec) (any, error)
	// Do performs the step and may return an output recorded in the journal.
	Do func(ctx context.Context, x Exec) (any, error)
	// Verify checks the step's postcondition after Do.
	Verify func(ctx context.Context, x Exec) error
	// Undo restores the before-state.
	Undo func(ctx context.Context, x Exec) error
	// Prefetch, when set, reads through Once what Do will read first,
	// while the engine writes the step's start (a record write is an API
	// round trip and an etcd commit): Do then takes those reads, a few
	// milliseconds old, instead of making them after the write. It must
	// only read; a read it fails, Do makes itself. The write still comes
	// before Do acts.
	Prefetch func(ctx context.Context, x Exec)
	// PrefetchUndo is Prefetch for Undo: a rollback starts it, for every
	// step it will undo, while its first write goes out. Undo takes the
	// reads only if it starts within a second of the rollback (an undo
	// before it may have waited for pods), and reads afresh otherwise.
	PrefetchUndo func(ctx context.Context, x Exec)
	// Settled, when set, is asked before the step starts whether the
	// system already is as the step would leave it (a scale to the size
	// the Deployment has). When it says so, with a note on why, the step is
	// marked skipped: nothing is captured or done, nothing needs undoing,
	// and the mark rides along with the next write. It must only read.
	Settled func(ctx context.Context, x Exec) (note string, settled bool, err error)
	// DryRun, when set, sends the step's writes and waits for nothing. It
	// is only ever called on actions built over clients that mark every
	// write dryRun=All (kube.Clients.ServerDryRun): the API server admits
	// or refuses each write and keeps none. A step without it (a wait, a
	// check, an approval, a write outside Kubernetes) is not sent.
	DryRun func(ctx context.Context, x Exec) error
}

// Engine runs journaled steps.
type Engine struct {
	Store   journal.Store
	Actions map[string]Action
	Clock   clock.Clock
	Log     *slog.Logger
	// Observe, when set, is called on every transition (live view, audit,
	// Kubernetes Events, notifications). It must not block for long.
	Observe func(Event)
	// Retries is how often a transient error is retried (default 8: about 5 s of backoff in all).
	Retries int
	// CrashAt, when set, is called at every step boundary; tests use it to
	// kill the process exactly there.
	CrashAt func(step string, phase Phase)
	// Parallelism bounds how many lanes of a parallel block run at once
	// (default 1: one lane after the other).
	Parallelism int

	// mu serialises changes to the run while lanes run side by side, and
	// the observer calls that read them; seq counts those changes.
	mu  sync.Mutex
	seq uint64
	// enc encodes the run for the journal, under mu.
	enc journal.Encoder
	// wmu lets one journal write run at a time; written is the last change
	// on disk.
	wmu     sync.Mutex
	written uint64
	// rollingBack is the change that entered rolling-back (0: none yet).
	rollingBack uint64
	// undoReads are what the rollback under way prefetched for its undos.
	undoReads map[*journal.Step]undoReads
}

// Phase names a step boundary.
type Phase string

// Step boundaries: after the before-state is journaled, after the action ran
// (not yet journaled), after the result is journaled.
const (
	PhaseStarted Phase = "started"
	PhaseActed   Phase = "acted"
	PhaseDone    Phase = "done"
)

// EventKind names a transition; its text is what the audit log records.
type EventKind string

// The transitions the engine reports.
const (
	StepStarted    EventKind = "step-started"
	StepDone       EventKind = "step-done"
	StepFailed     EventKind = "step-failed"
	StepUndoing    EventKind = "step-undoing"
	StepUndone     EventKind = "step-undone"
	StepKept       EventKind = "step-kept"     // undone by keeping the change (Keep)
	StepSkipped    EventKind = "step-skipped"  // nothing to change (Action.Settled)
	StepProgress   EventKind = "step-progress" // how far a long step has come (Event.Note; see Report)
	RunRunning     EventKind = "run-running"
	RunPaused      EventKind = "run-paused"
	RunWaiting     EventKind = "run-waiting"
	RunFailed      EventKind = "run-failed"
	RunSucceeded   EventKind = "run-succeeded"
	RunRollingBack EventKind = "run-rolling-back"
	RunRolledBack  EventKind = "run-rolled-back"
	RunAborted     EventKind = "run-aborted"
)

// Event is one transition of a run or step.
type Event struct {
	Run     *journal.Run
	Step    *journal.Step // nil for run-level events
	Kind    EventKind
	Err     error
	Elapsed time.Duration
	// Note is a StepProgress event's news, e.g. "2/3 pods ready, 4m10s left".
	Note string
}

type progressKey struct{}

// Report tells the run's observers how far the step whose action got ctx
// has come (a wait's "2/3 pods ready, 4m10s left"), as a StepProgress
// event. It records nothing; outside a step it does nothing.
func Report(ctx context.Context, format string, a ...any) {
	if f, ok := ctx.Value(progressKey{}).(func(string)); ok {
		f(fmt.Sprintf(format, a...))
	}
}

func (e *Engine) emit(ev Event) {
	if e.Observe != nil {
		e.mu.Lock()
		defer e.mu.Unlock()
		e.Observe(ev)
	}
}

// commit applies change to the run and returns once the change is on
// disk. Lanes that commit at the same time share one write (group commit):
// the first to get the writer lock encodes everything changed so far, and
// the others find their change already written. A journal write therefore
// costs one encode and one fsync per batch, not per lane.
//
// s is the step change touches, nil when it touches only the run's own
// fields: the journal encoder re-encodes only the steps marked so.
func (e *Engine) commit(ctx context.Context, r *journal.Run, s *journal.Step, change func()) error {
	e.mu.Lock()
	if change != nil {
		change()
	}
	if s != nil {
		e.enc.Changed(r, s)
	}
	r.UpdatedAt = e.Clock.Now().UTC()
	e.seq++
	mine := e.seq
	e.mu.Unlock()
	return e.flush(ctx, r, mine)
}

// note applies change to the run without writing it: the next commit
// carries it to disk. It is for changes a crash may lose because redoing
// them is harmless (marking a step without an undo as undone, entering
// rolling-back before anything is undone), so that they cost no fsync on
// the way to the first real undo.
func (e *Engine) note(r *journal.Run, s *journal.Step, change func()) {
	e.mu.Lock()
	defer e.mu.Unlock()
	change()
	if s != nil {
		e.enc.Changed(r, s)
	}
	r.UpdatedAt = e.Clock.Now().UTC()
	e.seq++
}

// rawSaver is a Store that writes a run already encoded (journal.Bolt).
type rawSaver interface {
	SaveJSON(ctx context.Context, id string, data []byte) error
}

func (e *Engine) flush(ctx context.Context, r *journal.Run, mine uint64) error {
	e.wmu.Lock()
	defer e.wmu.Unlock()
	if e.written >= mine {
		return nil
	}
	e.mu.Lock()
	upto := e.seq
	data, err := e.enc.Encode(r)
	e.mu.Unlock()
	if err != nil {
		return err
	}
	// A cancelled run context must not stop the journal from recording why.
	ctx = context.WithoutCancel(ctx)
	if rs, ok := e.Store.(rawSaver); ok {
		err = rs.SaveJSON(ctx, r.ID, data)
	} else {
		var snap journal.Run
		if err = json.Unmarshal(data, &snap); err == nil {
			err = e.Store.Save(ctx, &snap)
		}
	}
	if err != nil {
		return err
	}
	e.written = upto
	return nil
}

// forget drops the journal encoder's cache: a caller may have changed the
// run's steps between two calls of Run or Rollback (approval, resume).
func (e *Engine) forget() {
	e.mu.Lock()
	e.enc = journal.Encoder{}
	e.mu.Unlock()
}

func (e *Engine) crash(step string, p Phase) {
	if e.CrashAt != nil {
		e.CrashAt(step, p)
	}
}

// Run executes the run's pending steps in order. On a step failure it rolls
// the run back and returns an error wrapping ErrRolledBack and the cause. It
// returns ErrPaused at an approval gate, and ErrInterrupted when ctx is
// cancelled by the caller (the run stays resumable).
func (e *Engine) Run(ctx context.Context, r *journal.Run) error {
	if r.State == journal.RollingBack {
		return e.Rollback(ctx, r, r.Reason)
	}
	if r.State.Final() {
		return fmt.Errorf("run %s is %s: nothing to run", r.ID, r.State)
	}
	e.forget()
	// Running rides along with the first step's start: nothing acts
	// before a write but a step that had started already, and redoing
	// that is what a resume does anyway.
	e.note(r, nil, func() { r.State, r.DueAt = journal.Running, time.Time{} })
	e.emit(Event{Run: r, Kind: RunRunning})
	for _, b := range blocks(r.Steps) {
		s, err := e.runBlock(ctx, r, b)
		switch {
		case err == nil:
			continue
		case errors.As(err, new(*Deferred)):
			var d *Deferred
			errors.As(err, &d)
			if serr := e.commit(ctx, r, nil, func() { r.State, r.Reason, r.DueAt = journal.Waiting, d.What, d.At.UTC() }); serr != nil {
				return serr
			}
			e.emit(Event{Run: r, Step: s, Kind: RunWaiting})
			return fmt.Errorf("%w: %s", ErrWaiting, d.What)
		case errors.Is(err, ErrPaused):
			// A bare ErrPaused is an approval gate; a wrapped one says why
			// the run stopped (e.g. a drift report).
			reason := s.Description
			if err != ErrPaused { //nolint:errorlint // identity on purpose: only a bare ErrPaused is a gate
				reason = err.Error()
			}
			if serr := e.commit(ctx, r, nil, func() { r.State = journal.Paused; r.Reason = reason }); serr != nil {
				return serr
			}
			e.emit(Event{Run: r, Step: s, Kind: RunPaused})
			return ErrPaused
		case errors.Is(context.Cause(ctx), ErrAbortRequested):
			if err := e.abort(ctx, r); err != nil {
				return err
			}
			return fmt.Errorf("%w at step %s on request", ErrAborted, s.Name)
		case ctx.Err() != nil:
			return fmt.Errorf("%w at step %s: %w", ErrInterrupted, s.Name, context.Cause(ctx))
		default:
			reason := fmt.Sprintf("step %s failed: %v", s.Name, err)
			e.emit(Event{Run: r, Step: nil, Kind: RunFailed, Err: err})
			if rerr := e.Rollback(context.WithoutCancel(ctx), r, reason); rerr != nil {
				return fmt.Errorf("%s; rollback: %w", reason, rerr)
			}
			return fmt.Errorf("%w: %s", ErrRolledBack, reason)
		}
	}
	if err := e.commit(ctx, r, nil, func() { r.State = journal.Succeeded; r.Reason = "" }); err != nil {
		return err
	}
	e.emit(Event{Run: r, Kind: RunSucceeded})
	return nil
}

// Deferred is what an action returns when its step may act only later:
// the run is journaled waiting until At, and the process may exit. Any
// later Run of it does the step again, and the action decides again.
type Deferred struct {
	At time.Time
	// What says what is due, e.g. "shop-blue scales down to 0 at 10:30".
	What string
}

func (d *Deferred) Error() string { return d.What }

func (e *Engine) abort(ctx context.Context, r *journal.Run) error {
	if err := e.Rollback(context.WithoutCancel(ctx), r, "aborted on request"); err != nil {
		return err
	}
	if err := e.commit(ctx, r, nil, func() { r.State = journal.Aborted }); err != nil {
		return err
	}
	e.emit(Event{Run: r, Kind: RunAborted})
	return nil
}

// Abort walks the undos of a paused run and marks it aborted.
func (e *Engine) Abort(ctx context.Context, r *journal.Run) error {
	if r.State.Final() {
		return fmt.Errorf("run %s is already %s", r.ID, r.State)
	}
	return e.abort(ctx, r)
}

func (e *Engine) action(s *journal.Step) (Action, error) {
	a, ok := e.Actions[s.Kind]
	if !ok {
		return Action{}, fmt.Errorf("step %s: no action registered for kind %q", s.Name, s.Kind)
	}
	return a, nil
}

func (e *Engine) step(ctx context.Context, r *journal.Run, s *journal.Step) error {
	a, err := e.action(s)
	if err != nil {
		return err
	}
	x := Exec{Run: r, Step: s, reads: &reads{vals: map[string]*readState{}}}
	start := e.Clock.Now()
	log := e.Log.With("run", r.ID, "step", s.Name)
	switch {
	case s.State == journal.Started:
		log.Info("resuming step that had started")
	case acted(s):
		// Its before-state was captured before it first acted; capturing
		// again would record what the step itself made (a scale-down's 0
		// replicas), and the undo would restore that.
		log.Info("resuming step that had acted", "state", s.State)
		if err := e.commit(ctx, r, s, func() { s.State = journal.Started; s.Attempts++ }); err != nil {
			return err
		}
	default:
		if a.Settled != nil {
			note, settled, err := a.Settled(ctx, x)
			if err != nil {
				return e.fail(ctx, r, s, fmt.Errorf("read the current state: %w", err))
			}
			if settled {
				e.note(r, s, func() {
					s.State = journal.Skipped
					s.Note = note
					s.FinishedAt = e.Clock.Now().UTC()
				})
				log.Info("skipped step: nothing to change", "why", note)
				e.emit(Event{Run: r, Step: s, Kind: StepSkipped})
				// It passes its three boundaries at once: nothing happens
				// between them.
				for _, p := range []Phase{PhaseStarted, PhaseActed, PhaseDone} {
					e.crash(s.Name, p)
				}
				return nil
			}
		}
		if a.Prefetch != nil {
			pctx, cancel := context.WithCancel(ctx)
			defer cancel() // reads Do did not take are not waited for
			go a.Prefetch(pctx, x)
		}
		if err := e.start(ctx, a, x); err != nil {
			return e.fail(ctx, r, s, err)
		}
		e.crash(s.Name, PhaseStarted)
	}
	log.Info("running step", "kind", s.Kind)
	e.emit(Event{Run: r, Step: s, Kind: StepStarted})
	doCtx := context.WithValue(ctx, progressKey{}, func(note string) { e.emit(Event{Run: r, Step: s, Kind: StepProgress, Note: note}) })
	out, err := e.retry(ctx, func() (any, error) { return call(doCtx, a.Do, x) })
	if err != nil {
		return e.fail(ctx, r, s, err)
	}
	e.crash(s.Name, PhaseActed)
	if a.Verify != nil {
		if _, err := e.retry(ctx, func() (any, error) { return nil, a.Verify(ctx, x) }); err != nil {
			return e.fail(ctx, r, s, fmt.Errorf("verify: %w", err))
		}
	}
	var raw json.RawMessage
	if out != nil {
		if raw, err = json.Marshal(out); err != nil {
			return e.fail(ctx, r, s, fmt.Errorf("encode output: %w", err))
		}
	}
	// "Done" rides along with the next write (the next step's start, a
	// pause, the run's end): a crash before it leaves the step started,
	// and a resumed run does a started step again, which is safe since
	// every action is idempotent. It saves one write per step, which in
	// the cluster is an API round trip and an etcd commit.
	e.note(r, s, func() {
		if raw != nil {
			s.Output = raw
		}
		s.State = journal.Done
		s.Error = ""
		s.FinishedAt = e.Clock.Now().UTC()
	})
	elapsed := e.Clock.Now().Sub(start)
	log.Info("ran step", "elapsed", elapsed)
	e.emit(Event{Run: r, Step: s, Kind: StepDone, Elapsed: elapsed})
	e.crash(s.Name, PhaseDone)
	return nil
}

// acted reports whether a step went past its start before (it failed, or
// was being undone or undone), so that its journaled before-state is the
// one to keep.
func acted(s *journal.Step) bool {
	switch s.State {
	case journal.Errored, journal.Undoing, journal.Undone:
		return true
	}
	return false
}

// start checks the precondition, captures the before-state and journals it
// with the step marked started: from here on an undo is possible.
func (e *Engine) start(ctx context.Context, a Action, x Exec) error {
	if a.Precondition != nil {
		if err := a.Precondition(ctx, x); err != nil {
			return fmt.Errorf("precondition: %w", err)
		}
	}
	var raw json.RawMessage
	if a.Capture != nil {
		before, err := e.retry(ctx, func() (any, error) { return a.Capture(ctx, x) })
		if err != nil {
			return fmt.Errorf("capture before-state: %w", err)
		}
		if raw, err = json.Marshal(before); err != nil {
			return fmt.Errorf("encode before-state: %w", err)
		}
	}
	return e.commit(ctx, x.Run, x.Step, func() {
		if raw != nil {
			x.Step.Before = raw
		}
		x.Step.State = journal.Started
		x.Step.StartedAt = e.Clock.Now().UTC()
		x.Step.Attempts++
	})
}

func (e *Engine) fail(ctx context.Context, r *journal.Run, s *journal.Step, err error) error {
	if errors.Is(err, ErrPaused) || errors.As(err, new(*Deferred)) || ctx.Err() != nil {
		return err
	}
	// The failure rides along with the rollback's first write, which comes
	// before its first undo acts: a failed check's switch back waits for
	// no write of its own. A crash before it leaves the step started, and
	// a resume does it again.
	e.note(r, s, func() {
		// A pending step stays pending: nothing reached the system, nothing to undo.
		if s.State != journal.Pending {
			s.State = journal.Errored
		}
		s.Error = err.Error()
		s.FinishedAt = e.Clock.Now().UTC()
	})
	e.Log.Error("step failed", "run", r.ID, "step", s.Name, "error", err)
	e.emit(Event{Run: r, Step: s, Kind: StepFailed, Err: err})
	return err
}

func call(ctx context.Context, f func(context.Context, Exec) (any, error), x Exec) (any, error) {
	if f == nil {
		return nil, nil
	}
	return f(ctx, x)
}
