package cli

import (
	"testing"
	"time"

	"github.com/bluegreen/bluegreen/internal/journal"
)

// What a run does now: the started step while it runs, the step being
// undone while it rolls back (timed from the undo), the reason while it
// stands still, nothing once it is over.
func TestCurrentStep(t *testing.T) {
	t0 := time.Date(2026, 12, 3, 13, 0, 0, 0, time.UTC)
	steps := func(states ...journal.StepState) []journal.Step {
		var out []journal.Step
		for i, s := range states {
			out = append(out, journal.Step{Name: []string{"set-image", "scale-idle", "wait-rollout", "switch"}[i], State: s,
				Description: "do it", StartedAt: t0, UndoStartedAt: t0.Add(time.Minute)})
		}
		return out
	}
	for _, tc := range []struct {
		name string
		run  journal.Run
		want string
	}{
		{"running", journal.Run{ID: "r1", Operation: "deploy", State: journal.Running, Steps: steps(journal.Done, journal.Done, journal.Started, journal.Pending)},
			"run r1 (deploy) running: step 3/4 wait-rollout for 1m30s: do it"},
		{"rolling back", journal.Run{ID: "r1", Operation: "deploy", State: journal.RollingBack, Steps: steps(journal.Done, journal.Undoing, journal.Undone, journal.Undone)},
			"run r1 (deploy) rolling-back: step 2/4 scale-idle for 30s: do it"},
		{"waiting", journal.Run{ID: "r1", Operation: "deploy", State: journal.Waiting, Reason: "shop-blue scales down at 14:00", Steps: steps(journal.Done, journal.Pending)},
			"run r1 (deploy) waiting: shop-blue scales down at 14:00"},
		{"over", journal.Run{ID: "r1", Operation: "deploy", State: journal.Succeeded, Steps: steps(journal.Done)}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := current(&tc.run)
			got := ""
			if c != nil {
				got = c.text(t0.Add(90 * time.Second))
			}
			if got != tc.want {
				t.Fatalf("current: %q, want %q", got, tc.want)
			}
		})
	}
}
