package testbed

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// Ports are drawn at random from [portMin, portMax): below Linux's ephemeral
// range (32768 and up), so outgoing connections never take them, and below
// the ports kwokctl picks on its own (counting down from 32767).
const (
	portMin = 20000
	portMax = 32000
)

// portLockName is the file, in the system's temporary folder, that
// serialises picking and registering ports between processes.
const portLockName = "bluegreen-testbed-ports.lock"

// clusterPorts are the TCP ports one cluster listens on.
type clusterPorts struct {
	etcd, etcdPeer, apiserver, controllerManager, scheduler, kwok uint32
}

// all returns every port of p.
func (p clusterPorts) all() []uint32 {
	return []uint32{p.etcd, p.etcdPeer, p.apiserver, p.controllerManager, p.scheduler, p.kwok}
}

// lockPorts takes the machine-wide port lock, waiting for other processes
// that are picking ports.
func lockPorts(ctx context.Context) (unlock func(), err error) {
	return lockFile(ctx, filepath.Join(os.TempDir(), portLockName))
}

// pickPorts returns distinct ports that are free right now and not in
// reserved.
func pickPorts(reserved map[uint32]bool) (clusterPorts, error) {
	seen := map[uint32]bool{}
	var ports []uint32
	for tries := 0; len(ports) < 6; tries++ {
		if tries > 1000 {
			return clusterPorts{}, fmt.Errorf("no free ports in [%d, %d)", portMin, portMax)
		}
		p := uint32(portMin + rand.IntN(portMax-portMin))
		if seen[p] || reserved[p] || !portFree(p) {
			continue
		}
		seen[p] = true
		ports = append(ports, p)
	}
	return clusterPorts{
		etcd: ports[0], etcdPeer: ports[1], apiserver: ports[2],
		controllerManager: ports[3], scheduler: ports[4], kwok: ports[5],
	}, nil
}

// portFree reports whether port can be bound on loopback and on all
// interfaces.
func portFree(port uint32) bool {
	for _, host := range []string{bindAddress, ""} {
		l, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(int(port))))
		if err != nil {
			return false
		}
		_ = l.Close()
	}
	return true
}

// waitListening waits until every port accepts connections on loopback.
func (c *Cluster) waitListening(ctx context.Context, ports []uint32) error {
	var d net.Dialer
	for _, p := range ports {
		addr := net.JoinHostPort(bindAddress, strconv.Itoa(int(p)))
		err := c.waitHealthy(ctx, func(ctx context.Context) (bool, error) {
			dctx, cancel := context.WithTimeout(ctx, time.Second)
			defer cancel()
			conn, err := d.DialContext(dctx, "tcp", addr)
			if err != nil {
				return false, nil
			}
			_ = conn.Close()
			return true, nil
		})
		if err != nil {
			return fmt.Errorf("port %d: %w", p, err)
		}
	}
	return nil
}
