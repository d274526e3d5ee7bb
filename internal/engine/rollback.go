package engine

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/bluegreen/bluegreen/internal/journal"
)

// Rollback walks the undos of every step that started, newest first, and
// marks the run rolled back. It is journaled like a forward run: a rollback
// killed half-way is continued by calling Rollback (or Run) again.
func (e *Engine) Rollback(ctx context.Context, r *journal.Run, reason string) error {
	if r.State == journal.RolledBack || r.State == journal.Aborted {
		return fmt.Errorf("run %s is already %s", r.ID, r.State)
	}
	e.forget()
	// Entering rolling-back is written with the first undo (or the end):
	// a failed check's switch back waits for no journal write of its own.
	e.note(r, nil, func() {
		r.State = journal.RollingBack
		if reason != "" {
			r.Reason = reason
		}
	})
	e.mu.Lock()
	e.rollingBack = e.seq
	e.mu.Unlock()
	e.emit(Event{Run: r, Kind: RunRollingBack})
	pctx, cancel := context.WithCancel(ctx)
	defer cancel()
	e.prefetchUndos(pctx, r)
	bs := blocks(r.Steps)
	for i := len(bs) - 1; i >= 0; i-- {
		if s, err := e.undoBlock(ctx, r, bs[i]); err != nil {
			return fmt.Errorf("undo step %s: %w (the run stays rolling-back; `bluegreen resume` continues it)", s.Name, err)
		}
	}
	if err := e.commit(ctx, r, nil, func() { r.State = journal.RolledBack }); err != nil {
		return err
	}
	e.emit(Event{Run: r, Kind: RunRolledBack})
	return nil
}

func (e *Engine) undo(ctx context.Context, r *journal.Run, s *journal.Step) error {
	switch s.State {
	case journal.Started, journal.Done, journal.Errored, journal.Undoing:
	default:
		return nil // pending, skipped or already undone: nothing reached the system
	}
	a, err := e.action(s)
	if err != nil {
		return err
	}
	if a.Undo == nil {
		// Nothing to undo; a crash before the next write redoes this.
		e.note(r, s, func() { s.State = journal.Undone })
		return nil
	}
	start := e.Clock.Now()
	mark := func() {
		s.State = journal.Undoing
		if s.UndoStartedAt.IsZero() {
			s.UndoStartedAt = e.Clock.Now().UTC()
		}
	}
	// The first undo to act writes the run's rolling-back state (and the
	// failure that caused it) before it acts: a resume must continue the
	// rollback, never the release, once anything was undone. From then
	// on the marks ride along: a resumed rollback redoes every undo not
	// yet recorded undone, and undos are idempotent.
	if e.durable(r) {
		e.note(r, s, mark)
	} else if err := e.commit(ctx, r, s, mark); err != nil {
		return err
	}
	e.emit(Event{Run: r, Step: s, Kind: StepUndoing})
	e.crash(s.Name, "undoing")
	x := Exec{Run: r, Step: s, reads: e.prefetched(s)}
	var why string
	if _, err := e.retry(ctx, func() (any, error) { return nil, a.Undo(ctx, x) }); err != nil {
		var k kept
		if !errors.As(err, &k) {
			_ = e.commit(ctx, r, s, func() { s.Error = err.Error() })
			e.emit(Event{Run: r, Step: s, Kind: StepFailed, Err: err})
			return err
		}
		why = k.why
	}
	e.note(r, s, func() { s.State = journal.Undone; s.Kept = why })
	elapsed := e.Clock.Now().Sub(start)
	if why != "" {
		e.Log.Info("kept step on rollback", "run", r.ID, "step", s.Name, "why", why)
		e.emit(Event{Run: r, Step: s, Kind: StepKept, Elapsed: elapsed})
	} else {
		e.Log.Info("undid step", "run", r.ID, "step", s.Name, "elapsed", elapsed)
		e.emit(Event{Run: r, Step: s, Kind: StepUndone, Elapsed: elapsed})
	}
	e.crash(s.Name, "undone")
	return nil
}

// prefetchFresh is how old a rollback's prefetched reads may be when an
// undo starts.
const prefetchFresh = time.Second

// undoReads are the reads a rollback prefetched for one step's undo.
type undoReads struct {
	reads *reads
	at    time.Time
}

// prefetchUndos starts the PrefetchUndo of every step the rollback will
// undo, while its first write goes out; the undos take what was read
// (prefetched).
func (e *Engine) prefetchUndos(ctx context.Context, r *journal.Run) {
	e.mu.Lock()
	e.undoReads = map[*journal.Step]undoReads{}
	e.mu.Unlock()
	if e.durable(r) {
		return // a resumed rollback: no write to overlap
	}
	for i := range r.Steps {
		s := &r.Steps[i]
		switch s.State {
		case journal.Started, journal.Done, journal.Errored, journal.Undoing:
		default:
			continue
		}
		a, err := e.action(s)
		if err != nil || a.PrefetchUndo == nil || a.Undo == nil {
			continue
		}
		x := Exec{Run: r, Step: s, reads: &reads{vals: map[string]*readState{}}}
		e.mu.Lock()
		e.undoReads[s] = undoReads{reads: x.reads, at: e.Clock.Now()}
		e.mu.Unlock()
		go a.PrefetchUndo(ctx, x)
	}
}

// prefetched is the reads prefetched for s's undo, or nil when there are
// none or they are older than prefetchFresh.
func (e *Engine) prefetched(s *journal.Step) *reads {
	e.mu.Lock()
	defer e.mu.Unlock()
	u, ok := e.undoReads[s]
	if !ok || e.Clock.Now().Sub(u.at) > prefetchFresh {
		return nil
	}
	return u.reads
}

// durable reports whether the run's rolling-back state is written.
func (e *Engine) durable(r *journal.Run) bool {
	e.wmu.Lock()
	defer e.wmu.Unlock()
	e.mu.Lock()
	defer e.mu.Unlock()
	return r.State == journal.RollingBack && e.rollingBack != 0 && e.written >= e.rollingBack
}

// kept is an undo's answer that it left the step's change in place on
// purpose.
type kept struct{ why string }

func (k kept) Error() string { return "kept: " + k.why }

// Keep is what an Undo returns when the rollback should leave the step's
// change in place, saying why: the step counts as undone, and the journal,
// the live view and the audit log say it was kept and why.
func Keep(why string) error { return kept{why} }

// transient marks an error the engine retries.
type transient struct{ err error }

func (t transient) Error() string { return t.err.Error() }
func (t transient) Unwrap() error { return t.err }

// Transient marks err as worth retrying (a conflict, a timeout, a 5xx).
func Transient(err error) error {
	if err == nil {
		return nil
	}
	return transient{err}
}

// IsTransient reports whether err was marked Transient.
func IsTransient(err error) bool {
	var t transient
	return errors.As(err, &t)
}

// retry calls f until it succeeds, returns a permanent error, or the retry
// budget is spent, backing off from 20 ms (a conflict usually clears at once).
func (e *Engine) retry(ctx context.Context, f func() (any, error)) (any, error) {
	budget := e.Retries
	if budget == 0 {
		budget = 8
	}
	backoff := 20 * time.Millisecond
	for attempt := 1; ; attempt++ {
		out, err := f()
		if err == nil || !IsTransient(err) || attempt > budget {
			return out, err
		}
		e.Log.Info("retrying after transient error", "attempt", attempt, "error", err)
		if serr := e.Clock.SleepUntil(ctx, e.Clock.Now().Add(backoff)); serr != nil {
			return nil, errors.Join(err, serr)
		}
		backoff *= 2
	}
}
