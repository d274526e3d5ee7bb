package controller

import (
	"context"
	"sync/atomic"

	"k8s.io/client-go/util/flowcontrol"

	"github.com/bluegreen/bluegreen/internal/engine"
	"github.com/bluegreen/bluegreen/internal/journal"
	"github.com/bluegreen/bluegreen/internal/plan"
)

// runLimiter is a run's share of the API request budget. The runs share
// one token bucket, except while a run is between its new color's
// readiness and its switch, or rolling back: then it takes a second
// bucket of the same size, which only runs at that point use. Checks
// passed on the preview age while a run waits to switch, and a rollback
// is what someone waits for; neither should queue behind a thousand runs
// still setting images and scaling.
type runLimiter struct {
	normal, urgent flowcontrol.RateLimiter
	hot            atomic.Bool
}

var _ flowcontrol.RateLimiter = (*runLimiter)(nil)

func (l *runLimiter) lane() flowcontrol.RateLimiter {
	if l.hot.Load() {
		return l.urgent
	}
	return l.normal
}

// TryAccept implements flowcontrol.RateLimiter.
func (l *runLimiter) TryAccept() bool { return l.lane().TryAccept() }

// Accept implements flowcontrol.RateLimiter.
func (l *runLimiter) Accept() { l.lane().Accept() }

// Stop implements flowcontrol.RateLimiter: the buckets are shared.
func (l *runLimiter) Stop() {}

// QPS implements flowcontrol.RateLimiter.
func (l *runLimiter) QPS() float32 { return l.lane().QPS() }

// Wait implements flowcontrol.RateLimiter.
func (l *runLimiter) Wait(ctx context.Context) error { return l.lane().Wait(ctx) }

// critical reports whether run r stands between its new color's
// readiness and its switch, or is rolling back.
func critical(r *journal.Run) bool {
	if r.State == journal.RollingBack {
		return true
	}
	ready, switched := false, false
	for _, s := range r.Steps {
		switch s.Kind {
		case plan.KindWaitRollout:
			ready = s.State == journal.Done || s.State == journal.Skipped
		case plan.KindSwitch:
			switched = s.State == journal.Done || s.State == journal.Skipped
		}
	}
	return ready && !switched
}

// follow moves the run's requests between the lanes as its steps go.
func (l *runLimiter) follow(ev engine.Event) {
	switch {
	case ev.Kind == engine.StepUndoing:
		l.hot.Store(true)
	case ev.Step == nil || ev.Kind != engine.StepDone:
	case ev.Step.Kind == plan.KindWaitRollout:
		l.hot.Store(true)
	case ev.Step.Kind == plan.KindSwitch:
		l.hot.Store(false)
	}
}
