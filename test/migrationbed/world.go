package migrationbed

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/bluegreen/bluegreen/test/awsfake"
	"github.com/bluegreen/bluegreen/test/ebssim"
	"github.com/bluegreen/bluegreen/test/testbed"
)

// Names of the seeded AWS world.
const (
	Region       = "us-east-1"
	Zone         = "us-east-1a"
	VPC          = "vpc-0a1b2c3d4e5f60718"
	BlueEKS      = "shop-blue"
	GreenEKS     = "shop-green"
	Domain       = "example.com"
	InternalZone = "internal.example.com"
	Record       = "shop.example.com"
	BlueLB       = "blue-lb-1234.us-east-1.elb.amazonaws.com"
	GreenLB      = "green-lb-5678.us-east-1.elb.amazonaws.com"
	// GreenLBName is B's load balancer, whose target health gates the shifts.
	GreenLBName = "green-lb"
	CSIVersion  = "v1.35.0-eksbuild.1"
)

// Options size and time the world.
type Options struct {
	// Nodes per cluster (default 2).
	Nodes int
	// AttachDelay and DetachDelay are the EBS CSI simulator's delays;
	// EC2DetachDelay is how long EC2 keeps a detaching volume in-use.
	AttachDelay, DetachDelay, EC2DetachDelay time.Duration
	// SnapshotDelay and ChangeSyncDelay time snapshots and Route 53 changes.
	SnapshotDelay, ChangeSyncDelay time.Duration
	// ServiceCIDR of each cluster (wide for scale runs); empty: default.
	ServiceCIDR string
	// WorkDir holds the clusters; BinDir the test-bed binaries (default:
	// testbed.BinDir()).
	WorkDir, BinDir string
	Logger          *slog.Logger
}

// World is the running migration world.
type World struct {
	A, B *testbed.Cluster
	// ContextA and ContextB are the clusters' kubeconfig contexts.
	ContextA, ContextB string
	AWS                *awsfake.Server
	// Endpoint is the fake's base URL (the CLI's --aws-endpoint).
	Endpoint           string
	ZoneID, InternalID string
	// GreenTargetGroup is the ARN of B's load balancer's target group.
	GreenTargetGroup string
	SimA, SimB       *ebssim.Simulator
	EC2              *ec2.Client

	opts   Options
	cancel context.CancelFunc
	wg     sync.WaitGroup
	errs   chan error
}

// Start brings the world up. Stop it with Stop, even when Start fails
// half-way (it stops what it started itself before returning an error).
func Start(ctx context.Context, o Options) (w *World, err error) {
	if o.Nodes == 0 {
		o.Nodes = 2
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.BinDir == "" {
		if o.BinDir, err = testbed.BinDir(); err != nil {
			return nil, err
		}
	}
	w = &World{opts: o, errs: make(chan error, 2)}
	defer func() {
		if err != nil {
			w.Stop(context.WithoutCancel(ctx))
			w = nil
		}
	}()
	if err := w.startClusters(ctx); err != nil {
		return w, err
	}
	w.AWS = awsfake.New(awsfake.Options{
		DetachDelay: o.EC2DetachDelay, SnapshotDelay: o.SnapshotDelay, ChangeSyncDelay: o.ChangeSyncDelay,
	})
	w.Endpoint = w.AWS.Start()
	cfg := w.AWS.AWSConfig()
	w.EC2 = ec2.NewFromConfig(cfg)
	if err := w.seed(ctx); err != nil {
		return w, err
	}
	if err := w.installClusterAddons(ctx); err != nil {
		return w, err
	}
	w.startSimulators()
	return w, nil
}

func (w *World) startClusters(ctx context.Context) error {
	type res struct {
		c   *testbed.Cluster
		err error
	}
	start := func(name string) <-chan res {
		ch := make(chan res, 1)
		go func() {
			c, err := testbed.Start(ctx, testbed.Options{
				Name: name + "-" + fmt.Sprint(time.Now().UnixNano()%1_000_000), Nodes: w.opts.Nodes, Zones: []string{Zone},
				ServiceCIDR: w.opts.ServiceCIDR, WorkDir: filepath.Join(w.opts.WorkDir, name), BinDir: w.opts.BinDir, Logger: w.opts.Logger,
			})
			ch <- res{c, err}
		}()
		return ch
	}
	ca, cb := start("blue"), start("green")
	ra, rb := <-ca, <-cb
	w.A, w.B = ra.c, rb.c
	if err := errors.Join(ra.err, rb.err); err != nil {
		return fmt.Errorf("start clusters: %w", err)
	}
	var err error
	if w.ContextA, err = currentContext(w.A.Kubeconfig); err != nil {
		return err
	}
	w.ContextB, err = currentContext(w.B.Kubeconfig)
	return err
}

func currentContext(kubeconfig string) (string, error) {
	cfg, err := clientcmd.LoadFromFile(kubeconfig)
	if err != nil {
		return "", fmt.Errorf("read kubeconfig %s: %w", kubeconfig, err)
	}
	return cfg.CurrentContext, nil
}

func (w *World) startSimulators() {
	ctx, cancel := context.WithCancel(context.Background())
	w.cancel = cancel
	mk := func(c *testbed.Cluster) *ebssim.Simulator {
		return ebssim.New(ebssim.Options{Kube: c.Client, EC2: w.EC2, AttachDelay: w.opts.AttachDelay,
			DetachDelay: w.opts.DetachDelay, Logger: w.opts.Logger})
	}
	w.SimA, w.SimB = mk(w.A), mk(w.B)
	for _, s := range []*ebssim.Simulator{w.SimA, w.SimB} {
		w.wg.Add(1)
		go func() {
			defer w.wg.Done()
			if err := s.Run(ctx); err != nil && ctx.Err() == nil {
				w.errs <- err
			}
		}()
	}
}

// Stop stops the simulators, the fake and both clusters.
func (w *World) Stop(ctx context.Context) {
	if w.cancel != nil {
		w.cancel()
		w.wg.Wait()
	}
	if w.AWS != nil {
		w.AWS.Close()
	}
	for _, c := range []*testbed.Cluster{w.A, w.B} {
		if c != nil {
			if err := c.Stop(ctx); err != nil {
				w.opts.Logger.Warn("stop cluster", "cluster", c.Name, "error", err)
			}
		}
	}
}

// CLIEnv is the environment the bluegreen binary needs to reach the fake
// with the standard credential chain (static test keys, no instance
// metadata lookups).
func (w *World) CLIEnv() []string {
	return []string{
		"AWS_ACCESS_KEY_ID=AKIDTEST", "AWS_SECRET_ACCESS_KEY=test-secret", "AWS_REGION=" + Region,
		"AWS_EC2_METADATA_DISABLED=true", "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null",
		"BLUEGREEN_AWS_ENDPOINT=" + w.Endpoint,
	}
}

// instanceID returns the EC2 instance ID in a node's providerID.
func instanceID(providerID string) string {
	if i := strings.LastIndex(providerID, "/"); i >= 0 {
		return providerID[i+1:]
	}
	return providerID
}
