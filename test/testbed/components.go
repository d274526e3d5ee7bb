package testbed

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// components are the processes of a cluster, named like kwokctl's pid files.
var components = []string{
	"etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok-controller",
}

// maxRestarts bounds how often Start restarts components that exited.
const maxRestarts = 3

// waitHealthy is WaitFor(ctx, cond) that also restarts components which
// exit while the cluster starts. Under heavy CPU load kube-controller-manager
// exits when the API server is not healthy within 10s, and kwokctl restarts
// nothing.
func (c *Cluster) waitHealthy(ctx context.Context, cond func(context.Context) (bool, error)) error {
	return WaitFor(ctx, func(ctx context.Context) (bool, error) {
		if err := c.restartExited(ctx); err != nil {
			return false, err
		}
		return cond(ctx)
	})
}

// restartExited runs kwokctl start cluster, which starts the components
// that are not running, if a component has exited.
func (c *Cluster) restartExited(ctx context.Context) error {
	exited := c.exitedComponents()
	if len(exited) == 0 {
		return nil
	}
	if c.restarts >= maxRestarts {
		return fmt.Errorf("components %v exited again after %d restarts\n%s", exited, c.restarts, c.componentLogTail())
	}
	c.restarts++
	c.log.Warn("restarting exited components", "components", exited)
	return c.kwokctl(ctx, "start", "cluster")
}

// exitedComponents returns the components whose process has exited, and
// removes their pid files: kwokctl takes a zombie for a running process.
func (c *Cluster) exitedComponents() []string {
	var exited []string
	for _, name := range components {
		path := filepath.Join(c.clusterDir(), "pids", name+".pid")
		data, err := os.ReadFile(path)
		if err != nil {
			continue // not started yet
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
		if err == nil && alive(pid) {
			continue
		}
		exited = append(exited, name)
		_ = os.Remove(path)
	}
	return exited
}
