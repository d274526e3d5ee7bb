package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/bluegreen/bluegreen/test/testbed"
)

// cluster is the test bed cluster the package's scenarios share; each
// scenario works in a namespace of its own.
var (
	cluster *testbed.Cluster
	cliBin  string
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "bluegreen-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	// The two programs of a release, side by side: every test runs the
	// lean bluegreen, so migrate and controller also go through its hand
	// over to bluegreen-full.
	cliBin = filepath.Join(dir, "bluegreen")
	for _, b := range [][]string{{"-tags", "lean", "-o", cliBin}, {"-o", filepath.Join(dir, "bluegreen-full")}} {
		build := exec.Command("go", append(append([]string{"build"}, b...), "github.com/bluegreen/bluegreen/cmd/bluegreen")...)
		build.Stdout, build.Stderr = os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			fmt.Fprintln(os.Stderr, "build bluegreen:", err)
			return 1
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cluster, err = testbed.Start(ctx, testbed.Options{Nodes: 3})
	if err != nil {
		fmt.Fprintln(os.Stderr, "start test bed cluster:", err)
		return 1
	}
	defer func() {
		if err := cluster.Stop(context.Background()); err != nil {
			fmt.Fprintln(os.Stderr, "stop test bed cluster:", err)
		}
	}()
	return m.Run()
}
