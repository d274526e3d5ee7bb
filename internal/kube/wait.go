package kube

import (
	"context"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/bluegreen/bluegreen/internal/clock"
)

// Watcher opens a watch on the objects a wait depends on. Its events are
// only a signal to look again: the wait's condition reads the objects
// itself, so what a watch delivers (a stale cache, a bookmark, a dropped
// connection) can delay a wait but never end it wrongly.
type Watcher func(ctx context.Context, opts metav1.ListOptions) (watch.Interface, error)

// Named narrows a Watcher to the one object with this name.
func Named(w Watcher, name string) Watcher {
	return func(ctx context.Context, opts metav1.ListOptions) (watch.Interface, error) {
		opts.FieldSelector = fields.OneTermEqualSelector("metadata.name", name).String()
		return w(ctx, opts)
	}
}

// Selected narrows a Watcher to the objects matching a label selector.
func Selected(w Watcher, selector string) Watcher {
	return func(ctx context.Context, opts metav1.ListOptions) (watch.Interface, error) {
		opts.LabelSelector = selector
		return w(ctx, opts)
	}
}

// idleCheck is how often a watched wait looks again when nothing changed:
// the watches do the waking, this only bounds how long a lost event
// (a watch that broke and could not reopen) can hold a wait.
var idleCheck = 2 * time.Second

// WaitWatched calls cond now, then again each time one of the watches
// sees a change (a burst of changes makes one look), until cond reports
// done, returns an error, timeout passes (clock.ErrTimeout) or ctx ends.
// Compared with polling every interval, a wait costs the API server a few
// watch events instead of a read every interval, and it notices a change
// as soon as it happens. It is clock.Wait with watches as its Waker.
//
// Watches open before the first call of cond, from the API server's cache
// (resourceVersion 0), so a change after cond's read always wakes the
// wait. A watch that cannot open or that ends is reopened on the next
// round; while any is down (or none is given) the wait polls every
// interval, as clock.Poll does.
func WaitWatched(ctx context.Context, c clock.Clock, interval, timeout time.Duration, watches []Watcher, cond func(context.Context) (bool, error)) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w := &watchWaker{watches: watches, open: make([]watch.Interface, len(watches)), interval: interval,
		wake: make(chan struct{}, 1), down: make(chan int, len(watches))}
	defer w.stop()
	return clock.Wait(ctx, c, timeout, min(interval/2, maxCoalesce), w, cond)
}

// maxCoalesce bounds how long a woken wait lets a burst of changes settle.
const maxCoalesce = 125 * time.Millisecond

// watchWaker wakes a wait when one of its watches delivers an event.
type watchWaker struct {
	watches  []Watcher
	open     []watch.Interface
	interval time.Duration
	wake     chan struct{}
	down     chan int
}

// Idle reopens the watches that are down and says how long to sleep: the
// idle check while every watch is open, the interval otherwise.
func (w *watchWaker) Idle(ctx context.Context) (time.Duration, <-chan struct{}) {
	for drained := false; !drained; {
		select {
		case i := <-w.down:
			w.open[i].Stop()
			w.open[i] = nil
		default:
			drained = true
		}
	}
	healthy := len(w.watches) > 0
	for i, start := range w.watches {
		if w.open[i] != nil {
			continue
		}
		wi, err := start(ctx, metav1.ListOptions{ResourceVersion: "0"})
		if err != nil {
			healthy = false
			continue
		}
		w.open[i] = wi
		go func(i int, wi watch.Interface) {
			for range wi.ResultChan() {
				select {
				case w.wake <- struct{}{}:
				default: // a wake-up is pending already: one look covers both
				}
			}
			w.down <- i
			// A closed watch wakes the wait so that it is reopened now.
			select {
			case w.wake <- struct{}{}:
			default:
			}
		}(i, wi)
	}
	if healthy {
		return idleCheck, w.wake
	}
	return w.interval, w.wake
}

func (w *watchWaker) stop() {
	for _, wi := range w.open {
		if wi != nil {
			wi.Stop()
		}
	}
}
