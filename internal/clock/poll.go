package clock

import (
	"context"
	"errors"
	"time"
)

// ErrTimeout is returned by Wait and Poll when their timeout passes.
var ErrTimeout = errors.New("timed out")

// Waker tells Wait when to look again. Before each sleep Wait calls Idle:
// it returns how long to sleep when nothing happens and a channel that
// wakes the wait early (nil: none), e.g. a watch that saw a change.
type Waker interface {
	Idle(ctx context.Context) (time.Duration, <-chan struct{})
}

// Wait is the module's one wait loop. It calls cond now, then again after
// each sleep on c, until cond reports done, returns an error, timeout
// passes (ErrTimeout; a timeout of 0 or less never passes) or ctx ends.
// The timeout is checked between calls rather than put on ctx, so a call
// near the end is never cut short and mistaken for an API error. A wake-up
// is followed by settle, so that one look covers a burst of changes.
func Wait(ctx context.Context, c Clock, timeout, settle time.Duration, w Waker, cond func(context.Context) (bool, error)) error {
	var deadline time.Time
	if timeout > 0 {
		deadline = c.Now().Add(timeout)
	}
	for {
		idle, wake := w.Idle(ctx)
		next := c.Now().Add(idle)
		done, err := cond(ctx)
		if err != nil || done {
			return err
		}
		now := c.Now()
		if !deadline.IsZero() {
			if now.After(deadline) {
				return ErrTimeout
			}
			if deadline.Add(time.Millisecond).Before(next) {
				next = deadline.Add(time.Millisecond)
			}
		}
		if ctx.Err() != nil {
			return context.Cause(ctx)
		}
		select {
		case <-ctx.Done():
			return context.Cause(ctx)
		case <-wake:
			if err := Sleep(ctx, c, settle); err != nil {
				return err
			}
		case <-c.After(next.Sub(now)):
		}
	}
}

// every is a Waker that only sleeps.
type every time.Duration

func (e every) Idle(context.Context) (time.Duration, <-chan struct{}) { return time.Duration(e), nil }

// Poll is Wait without anything to wake it: it calls cond every interval.
func Poll(ctx context.Context, c Clock, interval, timeout time.Duration, cond func(context.Context) (bool, error)) error {
	return Wait(ctx, c, timeout, 0, every(interval), cond)
}
