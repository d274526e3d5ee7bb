package engine

import (
	"context"
	"errors"
	"sync"

	"github.com/bluegreen/bluegreen/internal/journal"
)

// block is a slice of a run's steps executed as one unit: a single step
// without a lane, or a maximal run of consecutive steps with lanes.
type block struct{ start, end int }

func (b block) parallel(steps []journal.Step) bool { return steps[b.start].Lane != "" }

// blocks cuts steps into blocks, in order.
func blocks(steps []journal.Step) []block {
	var out []block
	for i := 0; i < len(steps); {
		j := i + 1
		if steps[i].Lane != "" {
			for j < len(steps) && steps[j].Lane != "" {
				j++
			}
		}
		out = append(out, block{i, j})
		i = j
	}
	return out
}

// lanes returns the step indexes of a parallel block per lane, lanes in the
// order they first appear and each lane's steps in plan order.
func lanes(steps []journal.Step, b block) [][]int {
	pos := map[string]int{}
	var out [][]int
	for i := b.start; i < b.end; i++ {
		l := steps[i].Lane
		if _, ok := pos[l]; !ok {
			pos[l] = len(out)
			out = append(out, nil)
		}
		out[pos[l]] = append(out[pos[l]], i)
	}
	return out
}

// runBlock runs a block's pending steps. It returns the step that failed
// (the first to fail, for a parallel block) and its error.
func (e *Engine) runBlock(ctx context.Context, r *journal.Run, b block) (*journal.Step, error) {
	if !b.parallel(r.Steps) {
		s := &r.Steps[b.start]
		if s.State == journal.Done || s.State == journal.Skipped {
			return s, nil
		}
		return s, e.step(ctx, r, s)
	}
	// A failing lane stops the others at their next step boundary (or in
	// their current wait): the run is about to roll back anyway.
	lctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var (
		mu       sync.Mutex
		failed   *journal.Step
		firstErr error
	)
	e.forEachLane(lanes(r.Steps, b), func(idx []int) {
		for _, i := range idx {
			s := &r.Steps[i]
			if s.State == journal.Done || s.State == journal.Skipped {
				continue
			}
			if lctx.Err() != nil {
				return
			}
			err := e.step(lctx, r, s)
			if err == nil {
				continue
			}
			mu.Lock()
			// The first real failure wins over the cancellations it causes.
			if firstErr == nil || (errors.Is(firstErr, context.Canceled) && ctx.Err() == nil && !errors.Is(err, context.Canceled)) {
				failed, firstErr = s, err
			}
			mu.Unlock()
			cancel(err)
			return
		}
	})
	if firstErr == nil && ctx.Err() != nil {
		return &r.Steps[b.start], ctx.Err()
	}
	return failed, firstErr
}

// undoBlock walks the undos of a block, each lane newest first, lanes side
// by side. Every lane is undone as far as it goes even if another fails.
func (e *Engine) undoBlock(ctx context.Context, r *journal.Run, b block) (*journal.Step, error) {
	if !b.parallel(r.Steps) {
		s := &r.Steps[b.start]
		return s, e.undo(ctx, r, s)
	}
	var (
		mu       sync.Mutex
		failed   *journal.Step
		firstErr error
	)
	e.forEachLane(lanes(r.Steps, b), func(idx []int) {
		for k := len(idx) - 1; k >= 0; k-- {
			s := &r.Steps[idx[k]]
			if err := e.undo(ctx, r, s); err != nil {
				mu.Lock()
				if firstErr == nil {
					failed, firstErr = s, err
				}
				mu.Unlock()
				return
			}
		}
	})
	return failed, firstErr
}

// forEachLane calls f for every lane, at most Parallelism at once, and
// waits for all of them.
func (e *Engine) forEachLane(ls [][]int, f func(idx []int)) {
	n := e.Parallelism
	if n < 1 {
		n = 1
	}
	sem := make(chan struct{}, n)
	var wg sync.WaitGroup
	for _, idx := range ls {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			f(idx)
		}()
	}
	wg.Wait()
}
