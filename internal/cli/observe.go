package cli

import (
	"time"

	"github.com/bluegreen/bluegreen/internal/engine"
	"github.com/bluegreen/bluegreen/internal/journal"
)

// liveView prints one line per step transition, like the runbook being ticked.
func (g *Global) liveView(ev engine.Event) {
	if g.Output != "text" {
		return
	}
	if ev.Step == nil {
		switch ev.Kind {
		case engine.RunRunning:
			if ev.Run.Namespace == "" {
				g.printf("Run %s: %s %s\n", ev.Run.ID, ev.Run.Operation, ev.Run.App)
			} else {
				g.printf("Run %s: %s %s/%s\n", ev.Run.ID, ev.Run.Operation, ev.Run.Namespace, ev.Run.App)
			}
		case engine.RunRollingBack:
			g.printf("Rolling back: %s\n", redactText(ev.Run.Reason))
		}
		return
	}
	w := nameWidth(ev.Run)
	switch ev.Kind {
	case engine.StepStarted:
		g.printf("  → %-*s %s\n", w, ev.Step.Name, redactText(ev.Step.Description))
	case engine.StepDone:
		g.printf("  ✓ %-*s %s\n", w, ev.Step.Name, round(ev.Elapsed))
	case engine.StepFailed:
		g.printf("  ✗ %-*s %s\n", w, ev.Step.Name, redactErr(ev.Err))
	case engine.StepUndoing:
		g.printf("  ↶ %-*s undoing\n", w, ev.Step.Name)
	case engine.StepUndone:
		g.printf("  ↶ %-*s undone %s\n", w, ev.Step.Name, round(ev.Elapsed))
	case engine.StepKept:
		g.printf("  ↶ %-*s kept: %s\n", w, ev.Step.Name, redactText(ev.Step.Kept))
	case engine.StepSkipped:
		g.printf("  · %-*s nothing to change: %s\n", w, ev.Step.Name, redactText(ev.Step.Note))
	}
}

// nameWidth is the column width of a run's step names (at least 16).
func nameWidth(r *journal.Run) int {
	w := 16
	for _, s := range r.Steps {
		w = max(w, len(s.Name))
	}
	return w
}

func round(d time.Duration) string {
	if d < time.Second {
		return d.Round(time.Millisecond).String()
	}
	return d.Round(10 * time.Millisecond).String()
}
