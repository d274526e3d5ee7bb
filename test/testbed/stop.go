package testbed

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// How long Stop waits for the processes to exit after kwokctl killed them,
// and after Stop killed the leftovers.
const (
	exitTimeout = 10 * time.Second
	killTimeout = 5 * time.Second
)

// Stop deletes the cluster: it runs kwokctl delete cluster, makes sure no
// process of the cluster remains (killing leftovers) and removes WorkDir.
// Once it has succeeded, calling it again does nothing.
func (c *Cluster) Stop(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stopped {
		return nil
	}
	begin := time.Now()
	before := c.PIDs()
	var errs []error
	if _, err := os.Stat(filepath.Join(c.clusterDir(), "kwok.yaml")); err == nil {
		if err := c.kwokctl(ctx, "delete", "cluster"); err != nil {
			errs = append(errs, err)
		}
	}
	if err := c.reap(ctx, before); err != nil {
		return errors.Join(append(errs, err)...)
	}
	if err := os.RemoveAll(c.WorkDir); err != nil {
		errs = append(errs, fmt.Errorf("remove work dir: %w", err))
	}
	if err := c.unregister(); err != nil {
		errs = append(errs, err)
	}
	if len(errs) == 0 {
		c.stopped = true
		c.log.Info("cluster stopped", "elapsed", time.Since(begin).Round(time.Millisecond))
	}
	return errors.Join(errs...)
}

// reap waits for the cluster's processes, and those in before, to exit,
// kills those that do not and returns an error if any survive. Processes in
// before are waited for because an exiting process loses its command line
// (which PIDs looks at on Linux) before it is gone.
func (c *Cluster) reap(ctx context.Context, before []int) error {
	if c.waitNoProcesses(ctx, exitTimeout, before) {
		return nil
	}
	left := c.PIDs()
	c.log.Warn("killing processes left behind", "pids", left)
	for _, pid := range left {
		if err := kill(pid); err != nil {
			c.log.Warn("kill failed", "pid", pid, "err", err)
		}
	}
	if c.waitNoProcesses(ctx, killTimeout, before) {
		return nil
	}
	return fmt.Errorf("cluster %s: processes still running: %v", c.Name, append(c.PIDs(), slices.DeleteFunc(before, notAlive)...))
}

// notAlive reports whether process pid is gone.
func notAlive(pid int) bool { return !alive(pid) }

// waitNoProcesses reports whether, within timeout, the cluster has no
// process left and the processes in before are gone.
func (c *Cluster) waitNoProcesses(ctx context.Context, timeout time.Duration, before []int) bool {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	err := WaitFor(ctx, func(context.Context) (bool, error) {
		return len(c.PIDs()) == 0 && !slices.ContainsFunc(before, alive), nil
	})
	return err == nil
}

// PIDs returns the process IDs of the cluster's running components (etcd,
// kube-apiserver, kube-controller-manager, kube-scheduler, kwok). With procfs
// (Linux) it finds every process whose program lies in the cluster's folder;
// otherwise it reads kwokctl's pid files.
func (c *Cluster) PIDs() []int {
	if pids, ok := processesUnder(c.clusterDir()); ok {
		return pids
	}
	files, _ := filepath.Glob(filepath.Join(c.clusterDir(), "pids", "*.pid"))
	var pids []int
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
		if err == nil && alive(pid) && !slices.Contains(pids, pid) {
			pids = append(pids, pid)
		}
	}
	return pids
}
