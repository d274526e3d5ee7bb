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
// sees a change (a burst of changes makes one look), until cond reports done, returns an error, timeout passes
// (clock.ErrTimeout) or ctx ends. Compared with polling every interval, a
// wait costs the API server a few watch events instead of a read every
// interval, and it notices a change as soon as it happens.
//
// Watches open before the first call of cond, from the API server's cache
// (resourceVersion 0), so a change after cond's read always wakes the
// wait. A watch that cannot open or that ends is reopened on the next
// round; while any is down the wait polls every interval, as clock.Poll
// does.
func WaitWatched(ctx context.Context, c clock.Clock, interval, timeout time.Duration, watches []Watcher, cond func(context.Context) (bool, error)) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	wake := make(chan struct{}, 1)
	open := make([]watch.Interface, len(watches))
	defer func() {
		for _, w := range open {
			if w != nil {
				w.Stop()
			}
		}
	}()
	down := make(chan int, len(watches))
	reopen := func() bool {
		healthy := true
		for i, start := range watches {
			if open[i] != nil {
				continue
			}
			w, err := start(ctx, metav1.ListOptions{ResourceVersion: "0"})
			if err != nil {
				healthy = false
				continue
			}
			open[i] = w
			go func(i int, w watch.Interface) {
				for range w.ResultChan() {
					select {
					case wake <- struct{}{}:
					default: // a wake-up is pending already: one look covers both
					}
				}
				down <- i
			}(i, w)
		}
		return healthy
	}
	deadline := c.Now().Add(timeout)
	for {
		healthy := reopen()
		done, err := cond(ctx)
		if err != nil || done {
			return err
		}
		if c.Now().After(deadline) {
			return clock.ErrTimeout
		}
		next := idleCheck
		if !healthy {
			next = interval
		}
		// A timer of the clock cannot be stopped: one left behind fires
		// into its buffered channel and is collected.
		timer := c.After(min(next, deadline.Sub(c.Now())+time.Millisecond))
		select {
		case <-ctx.Done():
			return context.Cause(ctx)
		case <-wake:
			// Changes come in bursts (a pod's status, then its owner's):
			// wait a little so that one look covers the burst.
			_ = clock.Sleep(ctx, c, min(interval/2, maxCoalesce))
		case i := <-down:
			open[i].Stop()
			open[i] = nil
		case <-timer:
		}
	}
}

// maxCoalesce bounds how long a woken wait lets a burst of changes settle.
const maxCoalesce = 125 * time.Millisecond
