package testbed

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// registryName is the folder, in the system's temporary folder, that lists
// the clusters running on this machine, one JSON file per cluster, with the
// ports they use: a starting cluster's components may not listen yet.
//
// kwokctl detaches the components from the process that starts them, so a
// test binary killed before its cleanups run (Ctrl-C, go test -timeout)
// leaves its clusters running. Start stops such orphans: clusters whose
// owner process is gone, unless they were started with Options.Detached.
const registryName = "bluegreen-testbed-clusters"

// orphanTimeout bounds stopping one orphaned cluster.
const orphanTimeout = 30 * time.Second

// registration is the registry entry of one cluster.
type registration struct {
	Name    string   `json:"name"`
	WorkDir string   `json:"workDir"`
	BinDir  string   `json:"binDir"`
	Owner   int      `json:"owner"` // process ID of the owner, 0 if detached
	Ports   []uint32 `json:"ports"`
}

// registryEntry returns the path of c's registry entry.
func (c *Cluster) registryEntry() string {
	sum := sha256.Sum256([]byte(c.WorkDir))
	return filepath.Join(os.TempDir(), registryName, c.Name+"-"+hex.EncodeToString(sum[:6])+".json")
}

// register adds c, using ports, to the registry, owned by this process
// unless detached.
func (c *Cluster) register(detached bool, ports clusterPorts) error {
	reg := registration{
		Name: c.Name, WorkDir: c.WorkDir, BinDir: c.binDir, Owner: os.Getpid(), Ports: ports.all(),
	}
	if detached {
		reg.Owner = 0
	}
	data, err := json.Marshal(reg)
	if err != nil {
		return fmt.Errorf("register cluster: %w", err)
	}
	path := c.registryEntry()
	if err := os.MkdirAll(filepath.Dir(path), 0o777); err != nil {
		return fmt.Errorf("register cluster: %w", err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		return fmt.Errorf("register cluster: %w", err)
	}
	return nil
}

// unregister removes c from the registry.
func (c *Cluster) unregister() error {
	if err := os.Remove(c.registryEntry()); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("unregister cluster: %w", err)
	}
	return nil
}

// registrations returns the registry's entries, skipping unreadable ones.
func registrations() []registration {
	paths, _ := filepath.Glob(filepath.Join(os.TempDir(), registryName, "*.json"))
	var regs []registration
	for _, path := range paths {
		data, err := os.ReadFile(path)
		var reg registration
		if err != nil || json.Unmarshal(data, &reg) != nil || reg.WorkDir == "" {
			continue
		}
		regs = append(regs, reg)
	}
	return regs
}

// reservedPorts returns the ports of the registered clusters.
func reservedPorts() map[uint32]bool {
	ports := map[uint32]bool{}
	for _, reg := range registrations() {
		for _, p := range reg.Ports {
			ports[p] = true
		}
	}
	return ports
}

// stopOrphans stops the registered clusters whose owner process is gone.
// Failures are logged, not returned: they must not keep new clusters from
// starting.
func (c *Cluster) stopOrphans(ctx context.Context) {
	for _, reg := range registrations() {
		if reg.Owner == 0 || alive(reg.Owner) {
			continue
		}
		orphan := &Cluster{Name: reg.Name, WorkDir: reg.WorkDir, binDir: reg.BinDir,
			log: c.log.With("orphan", reg.Name)}
		orphan.log.Info("stopping cluster whose owner is gone", "owner", reg.Owner, "workdir", reg.WorkDir)
		sctx, cancel := context.WithTimeout(ctx, orphanTimeout)
		err := orphan.Stop(sctx)
		cancel()
		if err != nil {
			orphan.log.Warn("could not stop orphaned cluster", "err", err)
		}
	}
}
