package testbed

import (
	"context"
	"log/slog"
	"testing"
	"time"
)

// stopTimeout bounds the Stop that StartT registers as cleanup.
const stopTimeout = time.Minute

// StartT starts a cluster for the test t and registers its Stop with
// t.Cleanup, which also runs when the test fails (and then first logs the
// end of the component logs). The cluster is named after opts.Name, or the
// test, plus a random suffix; its work dir is a t.TempDir unless
// opts.WorkDir is set; it logs to the test's output unless opts.Logger is
// set. StartT fails the test if the cluster does not start, telling to run
// `make testbed` if the binaries are missing, and skips it on systems other
// than Linux and macOS.
func StartT(t testing.TB, opts Options) *Cluster {
	t.Helper()
	if err := supported(); err != nil {
		t.Skipf("testbed: %v", err)
	}
	if opts.BinDir == "" {
		dir, err := BinDir()
		if err != nil {
			t.Fatalf("testbed: %v", err)
		}
		opts.BinDir = dir
	}
	base := opts.Name
	if base == "" {
		base = t.Name()
	}
	opts.Name = uniqueName(base)
	if opts.WorkDir == "" {
		opts.WorkDir = t.TempDir()
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(t.Output(), nil))
	}
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	c, err := Start(ctx, opts)
	if err != nil {
		t.Fatalf("testbed: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("testbed: last lines of cluster %s's component logs:\n%s", c.Name, c.componentLogTail())
		}
		ctx, cancel := context.WithTimeout(context.Background(), stopTimeout)
		defer cancel()
		if err := c.Stop(ctx); err != nil {
			t.Errorf("testbed: stop cluster %s: %v", c.Name, err)
		}
	})
	return c
}
