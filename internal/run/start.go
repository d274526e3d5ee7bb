package run

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"

	"github.com/bluegreen/bluegreen/internal/audit"
	"github.com/bluegreen/bluegreen/internal/clock"
	"github.com/bluegreen/bluegreen/internal/engine"
	"github.com/bluegreen/bluegreen/internal/journal"
	"github.com/bluegreen/bluegreen/internal/plan"
	"github.com/bluegreen/bluegreen/internal/service"
)

// Planned describes a run about to start.
type Planned struct {
	Key Key
	// Operation is what the run does: "deploy", "init", "migrate".
	Operation string
	// Context is the kubeconfig context the run acts through (cluster A's
	// at cluster scope); runs are listed by it.
	Context string
	// Spec is the release or migration spec, journaled with the run so
	// that any later command can continue it.
	Spec any
	// Approved lets the run through its approval gate.
	Approved bool
	Steps    []journal.Step
}

// New is the run of p, ready for the engine's first write to journal it.
func New(clk clock.Clock, p Planned) (*journal.Run, error) {
	spec, err := json.Marshal(p.Spec)
	if err != nil {
		return nil, fmt.Errorf("encode the spec of %s: %w", p.Key.App, err)
	}
	now := clk.Now().UTC()
	ns := p.Key.Namespace
	if p.Key.Scope == journal.ScopeCluster {
		ns = ""
	}
	return &journal.Run{
		ID: journal.NewID(now), Scope: p.Key.Scope, Operation: p.Operation, Context: p.Context,
		Namespace: ns, App: p.Key.App, Actor: audit.Actor(), Spec: spec, State: journal.Running,
		Approved: p.Approved, Steps: p.Steps, CreatedAt: now, UpdatedAt: now,
		History: []journal.Action{{At: now, Actor: audit.Actor(), Verb: p.Operation}},
	}, nil
}

// RefuseUnfinished stops a new run of k's release, journaled through
// kubeconfig context kctx, while its last run is paused or was
// interrupted: the user decides that run's fate first. A run in progress
// on another machine is caught by its Lease (CheckFree, or the new run's
// Acquire).
func RefuseUnfinished(ctx context.Context, st journal.Store, log *slog.Logger, k Key, kctx string, cmd Commands) error {
	last, err := Last(ctx, st, log, k.Filter(kctx))
	if err != nil || last == nil || last.State.Final() {
		return err
	}
	if last.State == journal.Waiting {
		return fmt.Errorf("%w: %s: run %s waits (%s): release again after that time, when the next command finishes it, or roll it back first with `%s`",
			plan.ErrInvalid, k, last.ID, last.Reason, cmd(Rollback))
	}
	return fmt.Errorf("%w: %s has an unfinished run %s (%s): continue it with `%s` or `%s`, or undo it with `%s` first",
		plan.ErrInvalid, k, last.ID, last.State, cmd(Resume), cmd(Promote), cmd(Abort))
}

// ServiceActions are the service scope's actions for run r: those of
// `init` adopt an existing app, the others release an image.
func ServiceActions(r *journal.Run, d service.Deps) map[string]engine.Action {
	if r.Operation == "init" {
		return service.InitActions(d)
	}
	return service.Actions(d)
}
