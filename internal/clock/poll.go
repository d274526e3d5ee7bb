package clock

import (
	"context"
	"errors"
	"time"
)

// ErrTimeout is returned by Poll when its timeout passes.
var ErrTimeout = errors.New("timed out")

// Poll calls cond every interval on c until it reports done, returns an error,
// timeout passes (ErrTimeout; a timeout of 0 or less never passes) or ctx ends. The timeout is checked between
// calls rather than put on ctx, so a call near the end is never cut short
// and mistaken for an API error.
func Poll(ctx context.Context, c Clock, interval, timeout time.Duration, cond func(context.Context) (bool, error)) error {
	deadline := c.Now().Add(timeout)
	if timeout <= 0 {
		deadline = time.Time{} // none: ctx alone ends the wait
	}
	for {
		next := c.Now().Add(interval)
		done, err := cond(ctx)
		if err != nil || done {
			return err
		}
		if !deadline.IsZero() && c.Now().After(deadline) {
			return ErrTimeout
		}
		if err := c.SleepUntil(ctx, next); err != nil {
			return err
		}
	}
}
