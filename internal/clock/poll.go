package clock

import (
	"context"
	"errors"
	"time"
)

// ErrTimeout is returned by Poll when its timeout passes.
var ErrTimeout = errors.New("timed out")

// Poll calls cond every interval until it reports done, returns an error,
// timeout passes (ErrTimeout) or ctx ends. The timeout is checked between
// calls rather than put on ctx, so a call near the end is never cut short
// and mistaken for an API error.
func Poll(ctx context.Context, interval, timeout time.Duration, cond func(context.Context) (bool, error)) error {
	deadline := time.Now().Add(timeout)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		done, err := cond(ctx)
		if err != nil || done {
			return err
		}
		if time.Now().After(deadline) {
			return ErrTimeout
		}
		select {
		case <-ctx.Done():
			return context.Cause(ctx)
		case <-t.C:
		}
	}
}
