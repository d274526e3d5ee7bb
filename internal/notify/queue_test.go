package notify

import (
	"context"
	"sync"
	"testing"
	"time"
)

// stuck is a notifier whose deliveries hang until their context ends, like
// a webhook that accepts the connection and never answers.
type stuck struct {
	mu        sync.Mutex
	started   []string
	cancelled []string
	began     chan string
}

func (s *stuck) Notify(ctx context.Context, e Event) error {
	s.mu.Lock()
	s.started = append(s.started, e.Kind)
	s.mu.Unlock()
	s.began <- e.Kind
	<-ctx.Done()
	s.mu.Lock()
	s.cancelled = append(s.cancelled, e.Kind)
	s.mu.Unlock()
	return ctx.Err()
}

// recorder delivers at once and records the order.
type recorder struct {
	mu    sync.Mutex
	kinds []string
}

func (r *recorder) Notify(_ context.Context, e Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.kinds = append(r.kinds, e.Kind)
	return nil
}

// returnsWhile fails the test if f does not return while the notifier is
// stuck: Notify must never wait for a delivery.
func returnsWhile(t *testing.T, what string, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { f(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatalf("%s blocked on a delivery that never ends", what)
	}
}

func TestQueueNeverWaitsForADelivery(t *testing.T) {
	n := &stuck{began: make(chan string, 8)}
	q := NewQueue(n, 4, nil)
	// Given a delivery hanging on a dead webhook
	returnsWhile(t, "Notify", func() { _ = q.Notify(context.Background(), Event{Kind: KindStarted}) })
	if got := <-n.began; got != KindStarted {
		t.Fatalf("first delivery = %s", got)
	}
	// When more events come, and more than the queue holds
	returnsWhile(t, "Notify on a busy queue", func() {
		for _, k := range []string{KindFailed, KindRolledBack, KindAborted, KindPaused, KindPromoted, KindSucceeded} {
			_ = q.Notify(context.Background(), Event{Kind: k})
		}
	})
	// Then Close gives up at its deadline, cancelling the stuck delivery
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	returnsWhile(t, "Close", func() { q.Close(ctx) })
	n.mu.Lock()
	defer n.mu.Unlock()
	if len(n.cancelled) != 1 || n.cancelled[0] != KindStarted {
		t.Fatalf("cancelled deliveries = %v, want the stuck one", n.cancelled)
	}
	if len(n.started) != 1 {
		t.Fatalf("deliveries started after the deadline: %v", n.started)
	}
}

func TestQueueDeliversInOrderAndFlushes(t *testing.T) {
	r := &recorder{}
	q := NewQueue(r, 0, nil)
	want := []string{KindStarted, KindPaused, KindPromoted}
	for _, k := range want {
		_ = q.Notify(context.Background(), Event{Kind: k})
	}
	q.Close(context.Background())
	_ = q.Notify(context.Background(), Event{Kind: KindFailed}) // after Close: dropped
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.kinds) != len(want) {
		t.Fatalf("delivered %v, want %v", r.kinds, want)
	}
	for i := range want {
		if r.kinds[i] != want[i] {
			t.Fatalf("delivered %v, want %v in order", r.kinds, want)
		}
	}
}
