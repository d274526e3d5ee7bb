package notify

import (
	"context"
	"log/slog"
	"sync"
)

// DefaultQueueSize is how many events a Queue holds before it drops new
// ones; a run emits a handful.
const DefaultQueueSize = 64

// Queue delivers events in the background, one after the other in the
// order they came, so that a slow or dead webhook never holds up a release
// or its rollback: Notify only enqueues. Close flushes what is queued, for
// at most as long as its context allows, then cancels the delivery in
// flight.
type Queue struct {
	next   Notifier
	log    *slog.Logger
	ch     chan Event
	done   chan struct{}
	ctx    context.Context
	cancel context.CancelFunc

	mu     sync.Mutex
	closed bool
}

// NewQueue starts a queue of size events (DefaultQueueSize if 0) in front
// of next. log receives dropped events; nil discards.
func NewQueue(next Notifier, size int, log *slog.Logger) *Queue {
	if size <= 0 {
		size = DefaultQueueSize
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	q := &Queue{next: next, log: log, ch: make(chan Event, size), done: make(chan struct{}), ctx: ctx, cancel: cancel}
	go q.deliver()
	return q
}

func (q *Queue) deliver() {
	defer close(q.done)
	for e := range q.ch {
		if q.ctx.Err() != nil {
			q.log.Warn("notification not sent: flush deadline passed", "kind", e.Kind, "run", e.Run)
			continue
		}
		_ = q.next.Notify(q.ctx, e)
	}
}

// Notify enqueues e and returns at once. A full or closed queue drops e
// (logged); notifications never fail or stall a release.
func (q *Queue) Notify(_ context.Context, e Event) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		q.log.Warn("notification dropped: queue closed", "kind", e.Kind, "run", e.Run)
		return nil
	}
	select {
	case q.ch <- e:
	default:
		q.log.Warn("notification dropped: queue full", "kind", e.Kind, "run", e.Run)
	}
	return nil
}

// Close stops taking events and waits until the queued ones are delivered
// or ctx is done; then it cancels the delivery in flight, drops the rest
// (each logged) and returns.
func (q *Queue) Close(ctx context.Context) {
	q.mu.Lock()
	if !q.closed {
		q.closed = true
		close(q.ch)
	}
	q.mu.Unlock()
	select {
	case <-q.done:
	case <-ctx.Done():
		q.cancel()
		<-q.done
	}
	q.cancel()
}
