package bench

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/bluegreen/bluegreen/internal/journal"
)

// benchAutoRollback times the automatic rollback after a check fails in
// the watch window: a release blue → green whose production URL answers
// 503. Two intervals per run: from the failed check to the switch back
// starting, both journaled by the CLI (the journal's own time stamps, on
// the CLI's clock), and from the CLI's line for the failed check to its
// line for the switch back done (stdout, time-stamped on arrival). The
// old color stays warm (--keep-warm), so the switch back waits for no pod.
func benchAutoRollback(ctx context.Context, b *testing.B, w *world, runs int, rep *report) {
	w.install(ctx, replicas, 0)
	healthy := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	failing := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, _ *http.Request) {
		http.Error(rw, "unhealthy", http.StatusServiceUnavailable)
	}))
	b.Cleanup(healthy.Close)
	b.Cleanup(failing.Close)
	var starts, done sample
	for i := -warmup; i < runs; i++ {
		w.settle(ctx, "blue")
		c := w.cli(ctx, "deploy", app, "--image", image(i+warmup), "--yes", "--keep-warm", strconv.Itoa(replicas),
			"--preview-url", healthy.URL, "--active-url", failing.URL, "--health-url", "/healthz",
			"--retries", "1", "--interval", "10ms", "--watch-window", "1s", "--watch-interval", "100ms")
		if c.code != 4 {
			b.Fatalf("deploy against a failing production URL: want exit 4 (rolled back), got %d\n%s", c.code, c)
		}
		start, err := switchBackGap(ctx, w.runs())
		if err != nil {
			b.Fatal(err)
		}
		failed, ok1 := c.find("✗", "watch")
		undone, ok2 := c.find("↶", "switch", "undone")
		if !ok1 || !ok2 {
			b.Fatalf("the CLI did not print the failed watch and the switch back:\n%s", c)
		}
		if i >= 0 {
			starts = append(starts, start)
			done = append(done, undone-failed)
		}
	}
	rep.add("failed watch check → switch back starts (journal)", starts)
	rep.add("failed watch check → switch back done (CLI output)", done)
	reportSwitch(b, starts)
}

// errNoRun means the app has no rolled-back run with a switch back.
var errNoRun = errors.New("run records: the last run has no failed step and switch back")

// switchBackGap reads the app's last run and returns the time from its
// failed step's end to its switch's undo start.
func switchBackGap(ctx context.Context, st journal.Store) (time.Duration, error) {
	runs, err := st.List(ctx, journal.Filter{App: app, Limit: 1})
	if err != nil {
		return 0, err
	}
	if len(runs) != 1 {
		return 0, errNoRun
	}
	var failedAt, undoAt time.Time
	for _, s := range runs[0].Steps {
		if s.Error != "" && failedAt.IsZero() {
			failedAt = s.FinishedAt
		}
		if s.Name == "switch" {
			undoAt = s.UndoStartedAt
		}
	}
	if failedAt.IsZero() || undoAt.IsZero() {
		return 0, errNoRun
	}
	return undoAt.Sub(failedAt), nil
}
