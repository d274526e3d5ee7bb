package migrate

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/bluegreen/bluegreen/internal/check"
	"github.com/bluegreen/bluegreen/internal/clock"
	"github.com/bluegreen/bluegreen/internal/engine"
	"github.com/bluegreen/bluegreen/internal/plan"
	"github.com/bluegreen/bluegreen/internal/traffic"
)

// ErrDrift means someone changed the weights out of band: the run stops
// (paused, nothing shifted) with a drift report.
var ErrDrift = errors.New("weights changed out of band")

// ErrChecksFailed means a check failed after a shift.
var ErrChecksFailed = errors.New("checks failed")

func split(green int) traffic.Split {
	return traffic.Split{string(plan.Blue): 100 - green, string(plan.Green): green}
}

// shift moves every record to the step's split. Before writing it reads
// the record sets back and stops with a drift report unless the weights
// are what the previous step wrote (or already this step's split, on
// resume) and every value or alias target is the spec's. Then it
// waits the pause and runs the checks; a failed check fails the step and
// the engine rolls the run back, first of all to 100/0. The undo sends all
// traffic back to A.
func (e Env) shift() engine.Action {
	return engine.Action{
		Do: func(ctx context.Context, x engine.Exec) (any, error) {
			var p plan.ShiftParams
			if err := x.Step.DecodeParams(&p); err != nil {
				return nil, err
			}
			if err := e.guardDrift(ctx, p); err != nil {
				return nil, err
			}
			want := split(p.Green)
			start := e.clk().Now()
			for _, t := range e.Records {
				e.Log.Info("shifting traffic", "record", t.Name, "split", want.String())
				if err := e.Router.Shift(ctx, t, want); err != nil {
					return nil, fmt.Errorf("shift %s to %s: %w", t.Name, want, err)
				}
			}
			e.Log.Info("shifted traffic", "split", want.String(), "elapsed", clock.Since(e.clk(), start))
			if err := e.Clock.SleepUntil(ctx, e.Clock.Now().Add(p.Pause.D())); err != nil {
				return nil, err
			}
			results, err := e.runChecks(ctx, fmt.Sprintf("cutover-%d", p.Green))
			if err != nil {
				return results, err
			}
			return results, nil
		},
		Undo: func(ctx context.Context, x engine.Exec) error {
			all := split(0)
			for _, t := range e.Records {
				// The newest shift's undo already sent everything back: the
				// older ones find 100/0 and return without another change.
				if got, err := e.Router.Observe(ctx, t); err == nil && got[string(plan.Green)] == 0 {
					continue
				}
				if err := e.Router.Shift(ctx, t, all); err != nil {
					return fmt.Errorf("shift %s back to %s: %w", t.Name, all, err)
				}
			}
			return nil
		},
	}
}

func (e Env) guardDrift(ctx context.Context, p plan.ShiftParams) error {
	var drift []string
	for _, t := range e.Records {
		got, err := e.Router.Observe(ctx, t)
		if err != nil {
			return fmt.Errorf("observe %s before shifting: %w", t.Name, err)
		}
		g := got[string(plan.Green)]
		if g == p.Previous || g == p.Green {
			continue
		}
		drift = append(drift, fmt.Sprintf("%s: expected %s, found %s", t.Name, split(p.Previous), got))
	}
	if len(drift) == 0 {
		return e.guardValues(ctx)
	}
	return fmt.Errorf("%w (%w): %s; nothing was shifted. Put the weights back and run `bluegreen migrate resume`, or `bluegreen migrate rollback` to send all traffic back to the source cluster",
		engine.ErrPaused, ErrDrift, strings.Join(drift, "; "))
}

// ErrRecordMismatch means a weighted record's live value or alias target
// is not the spec's: a shift would overwrite it, so the run stops first.
var ErrRecordMismatch = errors.New("records differ from the spec")

// guardValues stops the shift, before anything is written, when a record
// set the shift would UPSERT holds another value or alias target than the
// spec: a typo in the spec would otherwise replace production's record,
// and a record changed in the console would be silently reverted. Like
// drift it pauses: a person has to decide which side is right.
func (e Env) guardValues(ctx context.Context) error {
	v, ok := e.Router.(traffic.Verifier)
	if !ok {
		return nil
	}
	var diffs []string
	for _, t := range e.Records {
		d, err := v.Mismatches(ctx, t)
		if err != nil {
			return fmt.Errorf("read %s before shifting: %w", t.Name, err)
		}
		diffs = append(diffs, d...)
	}
	if len(diffs) == 0 {
		return nil
	}
	return fmt.Errorf("%w (%w): %s; nothing was shifted. Correct dns.records in the spec (or the record in Route 53) and run `bluegreen migrate resume`, or `bluegreen migrate rollback`",
		engine.ErrPaused, ErrRecordMismatch, strings.Join(diffs, "; "))
}

// CheckResult is one check's outcome as journaled.
type CheckResult struct {
	Name    string `json:"name"`
	Passed  bool   `json:"passed"`
	Message string `json:"message,omitempty"`
}

// runChecks runs the gate of a shift: the built-in target health of B's
// load balancers first, then the spec's checks.
func (e Env) runChecks(ctx context.Context, phase string) ([]CheckResult, error) {
	var out []CheckResult
	th, err := e.targetHealth(ctx)
	if th != nil {
		out = append(out, *th)
	}
	if err != nil {
		return out, err
	}
	if len(e.Checks) == 0 {
		return out, nil
	}
	rs, err := check.RunAll(ctx, e.Checks, check.Target{Phase: phase})
	var failed []string
	for _, r := range rs {
		out = append(out, CheckResult{Name: r.Name, Passed: r.Passed, Message: r.Detail})
		if !r.Passed {
			failed = append(failed, r.Name+": "+r.Detail)
		}
	}
	if err != nil {
		return out, fmt.Errorf("run checks: %w", err)
	}
	if len(failed) > 0 {
		return out, fmt.Errorf("%w: %s", ErrChecksFailed, strings.Join(failed, "; "))
	}
	return out, nil
}
