// Package batch lets many callers that poll the same API share its calls:
// each caller joins the next call, which reads what all of them asked for.
// Cloud APIs throttle per account, so fifty parallel lanes each polling on
// their own would be throttled; batched, they cost what one lane does.
package batch

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/bluegreen/bluegreen/internal/clock"
)

// Batcher makes one fetch serve every caller that asked since the last
// one. A caller's IDs go into the pending batch; the batch is fetched no
// sooner than interval after the previous fetch started, so a caller
// always gets a reading taken after it asked.
type Batcher[T any] struct {
	// Interval is the least time between two fetches.
	Interval time.Duration
	// Fetch reads ids; an ID it does not find is left out of the map.
	Fetch func(ctx context.Context, ids []string) (map[string]T, error)
	// Clock spaces the fetches; nil is the wall clock.
	Clock clock.Clock

	mu      sync.Mutex
	pending *batch[T]
	running bool
	last    time.Time
}

type batch[T any] struct {
	ctx  context.Context // the first caller's, without its cancellation
	ids  map[string]struct{}
	done chan struct{}
	got  map[string]T
	err  error
}

// Get returns what the next fetch finds of ids; an ID the fetch did not find is
// missing from the map.
func (b *Batcher[T]) Get(ctx context.Context, ids []string) (map[string]T, error) {
	b.mu.Lock()
	if b.pending == nil {
		// The fetch keeps the first caller's values (request metadata),
		// not its deadline: a caller that gives up must not fail the others.
		b.pending = &batch[T]{ctx: context.WithoutCancel(ctx), ids: map[string]struct{}{}, done: make(chan struct{})}
	}
	p := b.pending
	for _, id := range ids {
		p.ids[id] = struct{}{}
	}
	if !b.running {
		b.running = true
		go b.loop()
	}
	b.mu.Unlock()
	select {
	case <-p.done:
	case <-ctx.Done():
		return nil, context.Cause(ctx)
	}
	if p.err != nil {
		return nil, p.err
	}
	out := make(map[string]T, len(ids))
	for _, id := range ids {
		if v, ok := p.got[id]; ok {
			out[id] = v
		}
	}
	return out, nil
}

// fetchTimeout bounds one batched call, as no caller's context does.
const fetchTimeout = time.Minute

func (b *Batcher[T]) loop() {
	clk := b.Clock
	if clk == nil {
		clk = clock.Real{}
	}
	for {
		b.mu.Lock()
		next := b.last.Add(b.Interval)
		b.mu.Unlock()
		// More lanes join the batch meanwhile. No caller's context bounds
		// the loop: it ends when no batch is pending.
		_ = clk.SleepUntil(context.Background(), next)
		b.mu.Lock()
		p := b.pending
		b.pending = nil
		if p == nil {
			b.running = false
			b.mu.Unlock()
			return
		}
		b.last = clk.Now()
		b.mu.Unlock()
		ctx, cancel := context.WithTimeout(p.ctx, fetchTimeout)
		p.got, p.err = b.Fetch(ctx, slices.Sorted(maps.Keys(p.ids)))
		cancel()
		close(p.done)
	}
}

// Misses counts a wait's failed reads in a row. A batched read serves
// every waiting caller, so one failed call (a dropped connection, a
// throttled request the SDK gave up on) would fail them all at once: a
// wait rides out a few, each an interval apart, and fails on the fifth.
// Set it to 0 after a read that worked.
type Misses int

// MaxMisses is how many failed reads in a row end a wait.
const MaxMisses = 5

// Tolerate returns nil while err is one of the first few failures in a
// row, and err after that.
func (m *Misses) Tolerate(err error) error {
	*m++
	if *m >= MaxMisses {
		return fmt.Errorf("%d reads in a row failed: %w", MaxMisses, err)
	}
	return nil
}
