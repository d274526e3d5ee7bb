// Package clock is the time source injected into everything that waits, so
// that waits measured from journaled timestamps stay exact across a resume and
// tests can control time.
package clock

import (
	"context"
	"time"
)

// Clock tells the time and waits. It is the module's one time source: no
// package outside this one reads time.Now or sleeps (golangci's forbidigo
// enforces it), so every wait can be driven by a test and measured from
// journaled timestamps.
type Clock interface {
	Now() time.Time
	// After is time.After on this clock.
	After(d time.Duration) <-chan time.Time
	// SleepUntil returns when t has passed or ctx is done, whichever is first.
	SleepUntil(ctx context.Context, t time.Time) error
}

// Sleep waits d on c, or until ctx is done.
func Sleep(ctx context.Context, c Clock, d time.Duration) error {
	return c.SleepUntil(ctx, c.Now().Add(d))
}

// Since is the time elapsed on c since t.
func Since(c Clock, t time.Time) time.Duration { return c.Now().Sub(t) }

// Real is the wall clock.
type Real struct{}

// Now implements Clock.
func (Real) Now() time.Time { return time.Now() }

// After implements Clock.
func (Real) After(d time.Duration) <-chan time.Time { return time.After(d) }

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
