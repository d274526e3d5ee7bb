package ebssim

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
)

// relistBackoff is how long a store waits before listing again after a
// failed list or a broken watch.
const relistBackoff = time.Second

// store is a local copy of one kind of object kept current by list and
// watch, calling a handler on every change: a small informer. (client-go's
// informers would need a module this repository does not require.)
type store[T metav1.Object] struct {
	kind     string
	list     func(ctx context.Context, o metav1.ListOptions) ([]T, string, error)
	watch    func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error)
	onChange func(obj T, deleted bool) // called for the old and the new object of an update
	log      *slog.Logger

	mu     sync.RWMutex
	items  map[string]T // by namespace/name
	synced chan struct{}
}

// newStore returns a store of kind; run starts it.
func newStore[T metav1.Object](kind string, log *slog.Logger,
	list func(context.Context, metav1.ListOptions) ([]T, string, error),
	watchFn func(context.Context, metav1.ListOptions) (watch.Interface, error),
	onChange func(obj T, deleted bool),
) *store[T] {
	return &store[T]{
		kind: kind, list: list, watch: watchFn, onChange: onChange, log: log,
		items: map[string]T{}, synced: make(chan struct{}),
	}
}

// storeKey is the key of obj in a store.
func storeKey(namespace, name string) string { return namespace + "/" + name }

// run lists and watches until ctx is done, listing again whenever the
// watch ends, e.g. when its resource version has expired.
func (s *store[T]) run(ctx context.Context) {
	var once sync.Once
	var lastErr string
	for ctx.Err() == nil {
		rv, err := s.relist(ctx)
		if err == nil {
			once.Do(func() { close(s.synced) })
			err = s.follow(ctx, rv)
		}
		switch {
		case ctx.Err() != nil:
			return
		case err == nil || apierrors.IsGone(err) || apierrors.IsResourceExpired(err):
			continue // the watch ended or fell too far behind: list again at once
		case err.Error() != lastErr:
			lastErr = err.Error()
			s.log.Warn("cannot watch; retrying", "kind", s.kind, "error", err)
		}
		select {
		case <-ctx.Done():
		case <-time.After(relistBackoff):
		}
	}
}

// relist replaces the store's content with a fresh list, calling the
// handler for what changed, and returns the list's resource version.
func (s *store[T]) relist(ctx context.Context) (string, error) {
	items, rv, err := s.list(ctx, metav1.ListOptions{})
	if err != nil {
		return "", fmt.Errorf("list %s: %w", s.kind, err)
	}
	fresh := make(map[string]T, len(items))
	for _, it := range items {
		fresh[storeKey(it.GetNamespace(), it.GetName())] = it
	}
	s.mu.Lock()
	old := s.items
	s.items = fresh
	s.mu.Unlock()
	for k, o := range old {
		if n, ok := fresh[k]; !ok {
			s.onChange(o, true)
		} else if n.GetResourceVersion() != o.GetResourceVersion() {
			s.onChange(o, false)
		}
	}
	for k, n := range fresh {
		if o, ok := old[k]; !ok || n.GetResourceVersion() != o.GetResourceVersion() {
			s.onChange(n, false)
		}
	}
	return rv, nil
}

// follow applies watch events from resource version rv until the watch
// ends; it returns nil when the server just closed it.
func (s *store[T]) follow(ctx context.Context, rv string) error {
	w, err := s.watch(ctx, metav1.ListOptions{ResourceVersion: rv, AllowWatchBookmarks: true})
	if err != nil {
		return fmt.Errorf("watch %s: %w", s.kind, err)
	}
	defer w.Stop()
	for {
		var ev watch.Event
		var ok bool
		select {
		case <-ctx.Done():
			return nil
		case ev, ok = <-w.ResultChan():
		}
		if !ok {
			return nil
		}
		if ev.Type == watch.Error {
			return fmt.Errorf("watch %s: %w", s.kind, apierrors.FromObject(ev.Object))
		}
		obj, isT := ev.Object.(T)
		if !isT || ev.Type == watch.Bookmark {
			continue
		}
		key := storeKey(obj.GetNamespace(), obj.GetName())
		s.mu.Lock()
		old, had := s.items[key]
		if ev.Type == watch.Deleted {
			delete(s.items, key)
		} else {
			s.items[key] = obj
		}
		s.mu.Unlock()
		if had {
			s.onChange(old, false)
		}
		s.onChange(obj, ev.Type == watch.Deleted)
	}
}

// get returns the object namespace/name (namespace "" for cluster-scoped
// kinds).
func (s *store[T]) get(namespace, name string) (T, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	obj, ok := s.items[storeKey(namespace, name)]
	return obj, ok
}

// filter returns the objects for which keep is true. Objects are shared
// with the store and must not be modified.
func (s *store[T]) filter(keep func(T) bool) []T {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []T
	for _, obj := range s.items {
		if keep(obj) {
			out = append(out, obj)
		}
	}
	return out
}

// ptrs returns pointers to the elements of items, as list results hold
// values.
func ptrs[T any](items []T) []*T {
	out := make([]*T, len(items))
	for i := range items {
		out[i] = &items[i]
	}
	return out
}
