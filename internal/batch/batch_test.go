package batch

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestBatcher(t *testing.T) {
	ctx := context.Background()
	var fetches atomic.Int32
	fail := atomic.Bool{}
	b := &Batcher[string]{Interval: 20 * time.Millisecond, Fetch: func(_ context.Context, ids []string) (map[string]string, error) {
		fetches.Add(1)
		if fail.Load() {
			return nil, errors.New("throttled")
		}
		out := map[string]string{}
		for _, id := range ids {
			if id != "unknown" {
				out[id] = "state of " + id
			}
		}
		return out, nil
	}}

	t.Run("callers share fetches and get their own IDs", func(t *testing.T) {
		fetches.Store(0)
		var wg sync.WaitGroup
		errs := make(chan error, 30)
		for i := range 30 {
			wg.Go(func() {
				id := fmt.Sprintf("id-%d", i)
				got, err := b.Get(ctx, []string{id, "unknown"})
				switch {
				case err != nil:
					errs <- err
				case len(got) != 1 || got[id] != "state of "+id:
					errs <- fmt.Errorf("caller %s got %v", id, got)
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		if n := fetches.Load(); n > 3 {
			t.Fatalf("%d fetches for 30 callers asking at once", n)
		}
	})

	t.Run("a fetch error reaches every caller of the batch", func(t *testing.T) {
		fail.Store(true)
		defer fail.Store(false)
		if _, err := b.Get(ctx, []string{"a"}); err == nil || err.Error() != "throttled" {
			t.Fatalf("err = %v", err)
		}
	})

	t.Run("a caller that gives up leaves the batch to the others", func(t *testing.T) {
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if _, err := b.Get(cctx, []string{"a"}); !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want canceled", err)
		}
		if got, err := b.Get(ctx, []string{"b"}); err != nil || got["b"] != "state of b" {
			t.Fatalf("got %v, %v", got, err)
		}
	})
}

func TestMisses(t *testing.T) {
	cause := errors.New("connection reset")
	var m Misses
	for i := 1; i < MaxMisses; i++ {
		if err := m.Tolerate(cause); err != nil {
			t.Fatalf("failure %d of a row ended the wait: %v", i, err)
		}
	}
	m = 0 // a read worked
	for i := 1; i < MaxMisses; i++ {
		_ = m.Tolerate(cause)
	}
	if err := m.Tolerate(cause); !errors.Is(err, cause) {
		t.Fatalf("failure %d in a row: err = %v, want it to end the wait with the cause", MaxMisses, err)
	}
}
