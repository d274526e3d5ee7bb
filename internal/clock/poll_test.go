package clock

import (
	"context"
	"errors"
	"testing"
	"time"
)

// Poll runs on the clock it is given: a fake clock makes a minutes-long
// wait take no real time, and the waits it asks for are the interval.
func TestPoll(t *testing.T) {
	start := time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name      string
		timeout   time.Duration
		doneAfter int // calls until cond reports done; 0: never
		wantErr   error
		wantCalls int
	}{
		{"done at once", time.Minute, 1, nil, 1},
		{"done on the fourth look", time.Minute, 4, nil, 4},
		{"times out after the timeout", 3 * time.Second, 0, ErrTimeout, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := NewFake(start)
			calls := 0
			err := Poll(context.Background(), f, time.Second, tt.timeout, func(context.Context) (bool, error) {
				calls++
				return tt.doneAfter > 0 && calls >= tt.doneAfter, nil
			})
			if !errors.Is(err, tt.wantErr) || calls != tt.wantCalls {
				t.Fatalf("err %v after %d calls, want %v after %d", err, calls, tt.wantErr, tt.wantCalls)
			}
			// One interval each, the last one cut at the timeout.
			var total time.Duration
			for _, w := range f.Waits() {
				if w <= 0 || w > time.Second {
					t.Fatalf("waits %v, want at most one interval each", f.Waits())
				}
				total += w
			}
			if tt.wantErr != nil && total < tt.timeout {
				t.Fatalf("waited %s in all before timing out, want at least the timeout %s", total, tt.timeout)
			}
		})
	}
}

// A timeout of 0 never passes: only ctx ends the wait.
func TestPollWithoutTimeoutEndsWithContext(t *testing.T) {
	f := NewFake(time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC))
	ctx, cancel := context.WithCancel(context.Background())
	calls := 0
	err := Poll(ctx, f, time.Hour, 0, func(context.Context) (bool, error) {
		calls++
		if calls == 100 {
			cancel()
		}
		return false, nil
	})
	if !errors.Is(err, context.Canceled) || calls != 100 {
		t.Fatalf("err %v after %d calls, want context.Canceled after 100", err, calls)
	}
}
