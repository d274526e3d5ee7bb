package testbed

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// Client-side rate limits of Cluster.Config: far above client-go's defaults
// (5 and 10) so tests are not throttled.
const (
	clientQPS   = 100
	clientBurst = 200
)

// startTimeout bounds Start when its context has no deadline.
const startTimeout = 3 * time.Minute

// stateFile, in a cluster's work dir, lets Attach find a running cluster.
const stateFile = "testbed.json"

// Cluster is a running test-bed cluster.
type Cluster struct {
	// Name is the cluster's name (kwokctl's cluster name).
	Name string
	// Kubeconfig is the path of a kubeconfig file for the cluster, with
	// admin credentials.
	Kubeconfig string
	// Config is the client configuration for the cluster, QPS and Burst
	// raised for tests.
	Config *rest.Config
	// Client is a clientset for Config.
	Client kubernetes.Interface
	// WorkDir is the folder holding the cluster's state and logs (component
	// logs are in clusters/<Name>/logs); Stop removes it.
	WorkDir string
	// ServiceCIDR is the API server's service IP range.
	ServiceCIDR string
	// NodeNames are the names of the fake nodes Start created.
	NodeNames []string

	opts   Options
	binDir string
	log    *slog.Logger

	restarts int // components restarted by Start

	mu      sync.Mutex
	stopped bool
}

// state is what stateFile records.
type state struct {
	Name        string   `json:"name"`
	BinDir      string   `json:"binDir"`
	ServiceCIDR string   `json:"serviceCIDR"`
	NodeNames   []string `json:"nodeNames"`
}

// Start starts a cluster and returns once its API server answers, the
// default service account exists and opts.Nodes nodes are Ready. On error
// nothing is left running.
func Start(ctx context.Context, opts Options) (*Cluster, error) {
	if err := supported(); err != nil {
		return nil, err
	}
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, startTimeout)
		defer cancel()
	}
	if o.WorkDir == "" {
		if o.WorkDir, err = os.MkdirTemp("", "bluegreen-testbed-"); err != nil {
			return nil, fmt.Errorf("create work dir: %w", err)
		}
	} else if err := os.MkdirAll(o.WorkDir, 0o755); err != nil {
		return nil, fmt.Errorf("create work dir: %w", err)
	}
	c := &Cluster{
		Name: o.Name, WorkDir: o.WorkDir, ServiceCIDR: o.ServiceCIDR,
		opts: o, binDir: o.BinDir, log: o.Logger.With("cluster", o.Name),
	}
	begin := time.Now()
	if err := c.start(ctx); err != nil {
		stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		return nil, errors.Join(fmt.Errorf("start cluster %s: %w", c.Name, err), c.Stop(stopCtx))
	}
	c.log.Info("cluster ready", "kubeconfig", c.Kubeconfig, "server", c.Config.Host,
		"nodes", len(c.NodeNames), "elapsed", time.Since(begin).Round(time.Millisecond))
	return c, nil
}

// start brings c up: processes, client, nodes.
func (c *Cluster) start(ctx context.Context) error {
	begin := time.Now()
	if err := c.launch(ctx); err != nil {
		return err
	}
	c.log.Debug("components listening", "elapsed", time.Since(begin))
	if err := c.waitAPI(ctx); err != nil {
		return fmt.Errorf("%w\n%s", err, c.componentLogTail())
	}
	c.log.Debug("API ready", "elapsed", time.Since(begin))
	if err := c.createNodes(ctx); err != nil {
		return err
	}
	return c.saveState()
}

// launch reserves ports, runs kwokctl create cluster and waits until every
// component listens.
func (c *Cluster) launch(ctx context.Context) error {
	ports, err := c.reservePorts(ctx)
	if err != nil {
		return err
	}
	c.log.Debug("creating cluster", "workdir", c.WorkDir, "apiserver_port", ports.apiserver)
	if err := c.kwokctl(ctx, "create", "cluster", "--runtime", "binary", "--kubeconfig", ""); err != nil {
		return err
	}
	c.log.Debug("kwokctl create cluster done")
	if err := c.connect(); err != nil {
		return err
	}
	if err := c.waitListening(ctx, ports.all()); err != nil {
		return fmt.Errorf("components not listening: %w\n%s", err, c.componentLogTail())
	}
	return nil
}

// reservePorts picks ports that are free and not reserved by another
// cluster, writes c's configuration and registers c with its ports. It does
// so under the machine-wide port lock, so that concurrent starts, also in
// other processes, never pick the same ports.
func (c *Cluster) reservePorts(ctx context.Context) (clusterPorts, error) {
	unlock, err := lockPorts(ctx)
	if err != nil {
		return clusterPorts{}, err
	}
	defer unlock()
	c.stopOrphans(ctx)
	ports, err := pickPorts(reservedPorts())
	if err != nil {
		return ports, err
	}
	if err := c.writeConfig(ports); err != nil {
		return ports, err
	}
	if err := c.saveState(); err != nil { // lets Attach stop a half-started cluster
		return ports, err
	}
	return ports, c.register(c.opts.Detached, ports)
}

// clusterDir is the folder kwokctl keeps the cluster in.
func (c *Cluster) clusterDir() string {
	return filepath.Join(c.WorkDir, "clusters", c.Name)
}

// connect sets Kubeconfig, Config and Client from kwokctl's kubeconfig.
func (c *Cluster) connect() error {
	c.Kubeconfig = filepath.Join(c.clusterDir(), "kubeconfig.yaml")
	cfg, err := clientcmd.BuildConfigFromFlags("", c.Kubeconfig)
	if err != nil {
		return fmt.Errorf("load kubeconfig: %w", err)
	}
	cfg.QPS, cfg.Burst = clientQPS, clientBurst
	cfg.UserAgent = "bluegreen-testbed"
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return fmt.Errorf("create client: %w", err)
	}
	c.Config, c.Client = cfg, client
	return nil
}

// saveState records c in its work dir for Attach.
func (c *Cluster) saveState() error {
	data, err := json.MarshalIndent(state{
		Name: c.Name, BinDir: c.binDir, ServiceCIDR: c.ServiceCIDR, NodeNames: c.NodeNames,
	}, "", "  ")
	if err != nil {
		return fmt.Errorf("encode state: %w", err)
	}
	if err := os.WriteFile(filepath.Join(c.WorkDir, stateFile), data, 0o644); err != nil {
		return fmt.Errorf("write state: %w", err)
	}
	return nil
}

// Attach returns the cluster that Start left running in workDir, for
// example to stop it from another process. Config and Client are nil if the
// cluster never got as far as writing its kubeconfig.
func Attach(workDir string, logger *slog.Logger) (*Cluster, error) {
	workDir, err := filepath.Abs(workDir)
	if err != nil {
		return nil, fmt.Errorf("attach to cluster: %w", err)
	}
	data, err := os.ReadFile(filepath.Join(workDir, stateFile))
	if err != nil {
		return nil, fmt.Errorf("attach to cluster: %w", err)
	}
	var st state
	if err := json.Unmarshal(data, &st); err != nil {
		return nil, fmt.Errorf("attach to cluster: decode %s: %w", stateFile, err)
	}
	if logger == nil {
		logger = slog.Default()
	}
	c := &Cluster{
		Name: st.Name, WorkDir: workDir, ServiceCIDR: st.ServiceCIDR, NodeNames: st.NodeNames,
		binDir: st.BinDir, log: logger.With("cluster", st.Name),
	}
	c.Kubeconfig = filepath.Join(c.clusterDir(), "kubeconfig.yaml")
	if _, err := os.Stat(c.Kubeconfig); err != nil {
		return c, nil
	}
	if err := c.connect(); err != nil {
		return nil, fmt.Errorf("attach to cluster %s: %w", c.Name, err)
	}
	return c, nil
}
