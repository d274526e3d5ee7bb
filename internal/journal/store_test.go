package journal

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

func newStore(t *testing.T) *Bolt {
	t.Helper()
	s, err := OpenBolt(filepath.Join(t.TempDir(), "state", "journal.db"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSaveGetList(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	base := time.Date(2026, 11, 22, 5, 0, 0, 0, time.UTC)
	for i, app := range []string{"shop", "cart", "shop"} {
		r := &Run{ID: NewID(base.Add(time.Duration(i) * time.Second)), Scope: "service", Namespace: "prod", App: app, State: Running,
			Steps: []Step{{Name: "switch", Kind: "switch", State: Pending}}}
		if err := s.Save(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	runs, err := s.List(ctx, Filter{App: "shop"})
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 2 || runs[0].ID <= runs[1].ID {
		t.Fatalf("List(app=shop) = %d runs, want 2 newest first: %+v", len(runs), runs)
	}
	got, err := s.Get(ctx, runs[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Step("switch") == nil || got.App != "shop" {
		t.Fatalf("Get returned %+v", got)
	}
	if _, err := s.Get(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get(nope) error = %v, want ErrNotFound", err)
	}
	limited, _ := s.List(ctx, Filter{Limit: 1})
	if len(limited) != 1 {
		t.Fatalf("Limit 1 returned %d runs", len(limited))
	}
}

// Several writers in parallel must all land: each Save opens the file, takes
// its lock, commits and closes.
func TestConcurrentSaves(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- s.Save(ctx, &Run{ID: fmt.Sprintf("run-%02d", i), App: "a", State: Running})
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	runs, err := s.List(ctx, Filter{})
	if err != nil || len(runs) != 20 {
		t.Fatalf("List = %d runs, %v; want 20", len(runs), err)
	}
}
