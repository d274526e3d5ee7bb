package run

import (
	"context"
	"errors"
	"fmt"

	"github.com/bluegreen/bluegreen/internal/audit"
	"github.com/bluegreen/bluegreen/internal/engine"
	"github.com/bluegreen/bluegreen/internal/journal"
	"github.com/bluegreen/bluegreen/internal/kube"
	"github.com/bluegreen/bluegreen/internal/plan"
	"github.com/bluegreen/bluegreen/internal/service"
)

// Verb is what an operator, or a controller, asks of a release's last run.
type Verb string

// The verbs on a journaled run.
const (
	Promote  Verb = "promote"
	Resume   Verb = "resume"
	Rollback Verb = "rollback"
	Abort    Verb = "abort"
	// Status only names the command that shows a run, for hints.
	Status Verb = "status"
)

// Commands says how the caller's users ask for each verb, for the hints in
// errors (the CLI's "bluegreen migrate rollback -f migration.yaml").
type Commands func(Verb) string

// Check refuses a verb the run cannot take, with an error that wraps
// plan.ErrInvalid, names the run and says what to do instead. Promote
// records the approval on r.
func Check(v Verb, r *journal.Run, cmd Commands) error {
	what := "run " + r.ID + " of " + r.App
	if r.Scope == journal.ScopeCluster {
		what = "migration run " + r.ID
	}
	switch v {
	case Promote:
		if r.Scope == journal.ScopeCluster && PausedGate(r) == nil {
			why := string(r.State)
			if r.State == journal.Paused {
				why = "paused, but not at an approval gate (" + r.Reason + ")"
			}
			return fmt.Errorf("%w: %s is %s: nothing to promote; `%s` shows where it stands", plan.ErrInvalid, what, why, cmd(Status))
		}
		if r.State != journal.Paused {
			return fmt.Errorf("%w: %s is %s, not paused: nothing to promote", plan.ErrInvalid, what, r.State)
		}
		r.Approved = true
	case Resume:
		if r.State.Final() {
			return fmt.Errorf("%w: %s is already %s: nothing to resume", plan.ErrInvalid, what, r.State)
		}
	case Rollback:
		if r.State == journal.RolledBack || r.State == journal.Aborted {
			return fmt.Errorf("%w: %s is already %s: nothing to roll back", plan.ErrInvalid, what, r.State)
		}
	case Abort:
		if r.State.Final() {
			return fmt.Errorf("%w: %s is already %s: nothing to abort (a finished release goes back with `%s`)", plan.ErrInvalid, what, r.State, cmd(Rollback))
		}
		if r.Scope != journal.ScopeCluster && service.Switched(r) {
			return fmt.Errorf("%w: %s already switched production: use `%s` instead", plan.ErrInvalid, what, cmd(Rollback))
		}
	default:
		return fmt.Errorf("%w: %q is not a verb on a run", plan.ErrInvalid, v)
	}
	return nil
}

// Drive runs verb v, which Check allowed, on r through e. An abort that
// undid everything returns nil; a rollback goes on undoing where an
// interrupted one stopped.
func Drive(ctx context.Context, e *engine.Engine, v Verb, r *journal.Run) error {
	r.History = append(r.History, journal.Action{At: e.Clock.Now().UTC(), Actor: audit.Actor(), Verb: string(v)})
	switch v {
	case Rollback:
		if r.State == journal.RollingBack {
			return e.Run(ctx, r)
		}
		return e.Rollback(ctx, r, "rollback requested by "+kube.Self(r.ID).User)
	case Abort:
		if err := e.Abort(ctx, r); !errors.Is(err, engine.ErrRolledBack) {
			return err
		}
		return nil
	}
	return e.Run(ctx, r)
}

// PausedGate returns the approval gate a paused migration waits at, or nil
// when it paused for another reason (a drift report, a record mismatch).
func PausedGate(r *journal.Run) *journal.Step {
	if r.State != journal.Paused {
		return nil
	}
	for i := range r.Steps {
		if s := &r.Steps[i]; s.Kind == plan.KindApproveShift && s.State == journal.Started {
			return s
		}
	}
	return nil
}
