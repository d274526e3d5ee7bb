package controller

import (
	"testing"

	"k8s.io/client-go/util/flowcontrol"

	"github.com/bluegreen/bluegreen/internal/engine"
	"github.com/bluegreen/bluegreen/internal/journal"
	"github.com/bluegreen/bluegreen/internal/plan"
)

func steps(states ...journal.StepState) []journal.Step {
	kinds := []string{plan.KindSetImage, plan.KindWaitRollout, plan.KindChecks, plan.KindSwitch, plan.KindScaleDown}
	out := make([]journal.Step, len(states))
	for i, st := range states {
		out[i] = journal.Step{Name: kinds[i], Kind: kinds[i], State: st}
	}
	return out
}

func TestCriticalIsBetweenReadyAndSwitched(t *testing.T) {
	d, p, s := journal.Done, journal.Pending, journal.Started
	for _, c := range []struct {
		name  string
		state journal.RunState
		steps []journal.Step
		want  bool
	}{
		{"setting the image", journal.Running, steps(s, p, p, p, p), false},
		{"waiting for the rollout", journal.Running, steps(d, s, p, p, p), false},
		{"checking the preview", journal.Running, steps(d, d, s, p, p), true},
		{"paused before the switch", journal.Paused, steps(d, d, d, p, p), true},
		{"switching", journal.Running, steps(d, d, d, s, p), true},
		{"scaling the old color down", journal.Waiting, steps(d, d, d, d, p), false},
		{"rolling back", journal.RollingBack, steps(d, journal.Undone, p, p, p), true},
	} {
		if got := critical(&journal.Run{State: c.state, Steps: c.steps}); got != c.want {
			t.Errorf("%s: critical = %v, want %v", c.name, got, c.want)
		}
	}
}

// A run's requests take the urgent lane from its new color's readiness
// to its switch, and when it starts undoing, and the normal one otherwise.
func TestRunLimiterFollowsTheRun(t *testing.T) {
	normal, urgent := flowcontrol.NewFakeAlwaysRateLimiter(), flowcontrol.NewFakeNeverRateLimiter()
	l := &runLimiter{normal: normal, urgent: urgent}
	step := func(kind string) *journal.Step { return &journal.Step{Name: kind, Kind: kind} }
	for _, c := range []struct {
		ev   engine.Event
		want bool
	}{
		{engine.Event{Kind: engine.StepDone, Step: step(plan.KindSetImage)}, false},
		{engine.Event{Kind: engine.StepDone, Step: step(plan.KindWaitRollout)}, true},
		{engine.Event{Kind: engine.StepStarted, Step: step(plan.KindSwitch)}, true},
		{engine.Event{Kind: engine.StepDone, Step: step(plan.KindSwitch)}, false},
		{engine.Event{Kind: engine.StepUndoing, Step: step(plan.KindSwitch)}, true},
	} {
		l.follow(c.ev)
		if l.hot.Load() != c.want {
			t.Fatalf("after %s of %s: urgent = %v, want %v", c.ev.Kind, c.ev.Step.Kind, l.hot.Load(), c.want)
		}
		if got := l.TryAccept(); got == c.want {
			t.Fatalf("after %s of %s: a request went through the %v lane", c.ev.Kind, c.ev.Step.Kind, map[bool]string{true: "normal", false: "urgent"}[got])
		}
	}
}
