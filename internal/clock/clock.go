// Package clock is the time source injected into everything that waits, so
// that waits measured from journaled timestamps stay exact across a resume and
// tests can control time.
package clock

import (
	"context"
	"time"
)

// Clock tells the time and sleeps.
type Clock interface {
	Now() time.Time
	// SleepUntil returns when t has passed or ctx is done, whichever is first.
	SleepUntil(ctx context.Context, t time.Time) error
}

// Real is the wall clock.
type Real struct{}

// Now implements Clock.
func (Real) Now() time.Time { return time.Now() }

// SleepUntil implements Clock.
func (Real) SleepUntil(ctx context.Context, t time.Time) error {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err()
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return context.Cause(ctx)
	case <-timer.C:
		return nil
	}
}
