package cli

import (
	"strings"
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
	case engine.StepProgress:
		if g.progress.due(ev.Step.Name, ev.Note, g.clock.Now()) {
			g.printf("  … %-*s %s\n", w, ev.Step.Name, redactText(ev.Note))
		}
	}
}

// progressEvery is how often a step that keeps waiting says so again when
// nothing it reports has changed.
const progressEvery = 10 * time.Second

// progressLines decides which progress reports become lines: a step's
// first, each whose news changed (what it waits for, not the time left),
// and one every progressEvery otherwise. Events come one at a time (the
// engine serializes them).
type progressLines struct {
	last map[string]progressLine
}

type progressLine struct {
	news string
	at   time.Time
}

func (p *progressLines) due(step, note string, now time.Time) bool {
	if p.last == nil {
		p.last = map[string]progressLine{}
	}
	news, _, _ := strings.Cut(note, ";") // "2/3 pods ready; 4m left": the news is before the ';'
	prev, seen := p.last[step]
	if seen && prev.news == news && now.Sub(prev.at) < progressEvery {
		return false
	}
	p.last[step] = progressLine{news: news, at: now}
	return true
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
