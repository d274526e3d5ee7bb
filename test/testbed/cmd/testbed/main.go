// Command testbed starts and stops named test-bed clusters for scripts such
// as the demo:
//
//	testbed up --name NAME [--nodes N] [--service-cidr CIDR]
//	testbed down --name NAME
//
// up starts a cluster, prints its kubeconfig path as the last line of stdout
// and leaves it running. The cluster lives in .cache/testbed/clusters/NAME
// under the repository root, so down, run later by another process, finds
// and stops it. Both need the binaries that `make testbed` builds.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/bluegreen/bluegreen/test/testbed"
)

func main() {
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, logger, os.Args[1:])
	stop()
	if err != nil {
		logger.Error("testbed failed", "err", err)
		os.Exit(1)
	}
}

// usage is printed for a wrong command line.
const usage = `usage:
  testbed up --name NAME [--nodes N] [--service-cidr CIDR]
  testbed down --name NAME`

// run executes the command line args.
func run(ctx context.Context, logger *slog.Logger, args []string) error {
	if len(args) == 0 {
		return errors.New(usage)
	}
	fs := flag.NewFlagSet("testbed "+args[0], flag.ContinueOnError)
	name := fs.String("name", "", "cluster name (required)")
	nodes := fs.Int("nodes", testbed.DefaultNodes, "number of fake nodes")
	cidr := fs.String("service-cidr", testbed.DefaultServiceCIDR, "service IP range")
	if err := fs.Parse(args[1:]); err != nil {
		return fmt.Errorf("%w\n%s", err, usage)
	}
	if *name == "" || fs.NArg() != 0 {
		return errors.New(usage)
	}
	dir, err := clusterDir(*name)
	if err != nil {
		return err
	}
	switch args[0] {
	case "up":
		return up(ctx, logger, testbed.Options{
			Name: *name, Nodes: *nodes, ServiceCIDR: *cidr, WorkDir: dir, Logger: logger, Detached: true,
		})
	case "down":
		return down(ctx, logger, dir)
	default:
		return errors.New(usage)
	}
}

// clusterDir returns the work dir of the cluster called name.
func clusterDir(name string) (string, error) {
	root, err := testbed.RepoRoot()
	if err != nil {
		return "", err
	}
	return filepath.Join(root, ".cache", "testbed", "clusters", name), nil
}

// up starts the cluster described by opts and prints its kubeconfig path.
// A leftover of a cluster that is no longer running is cleaned up first.
func up(ctx context.Context, logger *slog.Logger, opts testbed.Options) error {
	if _, err := os.Stat(opts.WorkDir); err == nil {
		if c, err := testbed.Attach(opts.WorkDir, logger); err == nil && len(c.PIDs()) > 0 {
			return fmt.Errorf("cluster %s is already running (kubeconfig %s); run `testbed down --name %s` first",
				opts.Name, c.Kubeconfig, opts.Name)
		}
		if err := down(ctx, logger, opts.WorkDir); err != nil {
			return err
		}
	}
	c, err := testbed.Start(ctx, opts)
	if err != nil {
		return err
	}
	fmt.Println(c.Kubeconfig)
	return nil
}

// down stops the cluster in dir, if any, and removes dir.
func down(ctx context.Context, logger *slog.Logger, dir string) error {
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		logger.Info("no such cluster", "dir", dir)
		return nil
	}
	c, err := testbed.Attach(dir, logger)
	if err != nil {
		logger.Warn("removing a cluster folder without state", "dir", dir, "err", err)
		if err := os.RemoveAll(dir); err != nil {
			return fmt.Errorf("remove %s: %w", dir, err)
		}
		return nil
	}
	return c.Stop(ctx)
}
