package clock

import (
	"context"
	"sync"
	"time"
)

// Fake is a clock for tests. Its time moves only when a wait asks it to:
// every wait returns at once and moves the time forward by what it waited,
// so a test of a retry with minutes of backoff takes no real time. It
// records every wait asked of it. It is safe for concurrent use.
type Fake struct {
	mu    sync.Mutex
	now   time.Time
	waits []time.Duration
}

// NewFake returns a Fake whose time is start.
func NewFake(start time.Time) *Fake { return &Fake{now: start} }

// Now implements Clock.
func (f *Fake) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

// After implements Clock: it moves the time forward by d and fires at once.
func (f *Fake) After(d time.Duration) <-chan time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.waits = append(f.waits, d)
	if d > 0 {
		f.now = f.now.Add(d)
	}
	ch := make(chan time.Time, 1)
	ch <- f.now
	return ch
}

// SleepUntil implements Clock: it moves the time to t, if later, and
// returns ctx's error.
func (f *Fake) SleepUntil(ctx context.Context, t time.Time) error {
	<-f.After(t.Sub(f.Now()))
	return ctx.Err()
}

// Advance moves the time forward by d without recording a wait.
func (f *Fake) Advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = f.now.Add(d)
}

// Waits returns the waits asked so far, in order.
func (f *Fake) Waits() []time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]time.Duration(nil), f.waits...)
}
