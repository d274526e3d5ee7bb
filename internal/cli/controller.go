//go:build !lean

package cli

import (
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/go-logr/logr"
	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/bluegreen/bluegreen/api/v1alpha1"
	"github.com/bluegreen/bluegreen/internal/controller"
	"github.com/bluegreen/bluegreen/internal/kube"
	"github.com/bluegreen/bluegreen/internal/plan"
	"github.com/bluegreen/bluegreen/internal/run"
)

type controllerFlags struct {
	leaderElect   bool
	leaseNS       string
	metrics       string
	probes        string
	watch         []string
	shutdownGrace time.Duration
	// The runs' API request budget, together.
	qps   float32
	burst int
	// The leader Lease's timing (controller-runtime's defaults).
	leaseDuration, renewDeadline, retryPeriod time.Duration
}

func newControllerCmd(g *Global) *cobra.Command {
	var o controllerFlags
	cmd := &cobra.Command{
		Use:   "controller",
		Short: controllerShort,
		Long: `controller reconciles BlueGreenRelease objects (bluegreen.dev/v1alpha1) with the
same plan, steps, Lease and run records as the commands: a release the
controller runs shows in bluegreen status, and bluegreen promote, rollback and
abort act on it. With --leader-elect, one of several replicas acts; when it
stops, the next takes the runs over from their records.`,
		Example: `  # In the cluster (the Helm chart runs this):
  bluegreen controller --leader-elect --lease-namespace bluegreen-system

  # Against the current context, for one namespace:
  bluegreen controller -n shop --watch-namespace shop`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return g.runController(cmd, o) },
	}
	fl := cmd.Flags()
	fl.BoolVar(&o.leaderElect, "leader-elect", false, "take the controller's leader Lease first, so that one replica of several acts")
	fl.StringVar(&o.leaseNS, "lease-namespace", "", "namespace of the leader Lease (default: the namespace of -n or the context)")
	fl.StringVar(&o.metrics, "metrics-bind-address", ":8080", "where /metrics listens (0 turns it off)")
	fl.StringVar(&o.probes, "health-probe-bind-address", ":8081", "where /healthz and /readyz listen (0 turns them off)")
	fl.StringSliceVar(&o.watch, "watch-namespace", nil, "reconcile the BlueGreenReleases of these namespaces only (repeat it, or separate with commas; default: every namespace)")
	fl.Float32Var(&o.qps, "kube-api-qps", 100, "API requests a second that all runs together may send (a token bucket; runs about to switch or rolling back have a second one of the same size)")
	fl.IntVar(&o.burst, "kube-api-burst", 200, "API requests all runs together may send at once above --kube-api-qps")
	fl.DurationVar(&o.leaseDuration, "leader-elect-lease-duration", 15*time.Second, "how long the leader Lease lasts without renewal: the longest a crashed leader's releases wait")
	fl.DurationVar(&o.renewDeadline, "leader-elect-renew-deadline", 10*time.Second, "how long the leader retries a renewal before it stops leading")
	fl.DurationVar(&o.retryPeriod, "leader-elect-retry-period", 2*time.Second, "how often replicas try to take or renew the leader Lease")
	fl.DurationVar(&o.shutdownGrace, "shutdown-grace", 30*time.Second, "how long a stop waits for runs to reach a step boundary and record it")
	return cmd
}

var setLoggerOnce sync.Once

func (g *Global) runController(cmd *cobra.Command, o controllerFlags) error {
	if o.leaderElect && (o.retryPeriod <= 0 || o.retryPeriod >= o.renewDeadline || o.renewDeadline >= o.leaseDuration) {
		return fmt.Errorf("%w: --leader-elect-retry-period (%s) < --leader-elect-renew-deadline (%s) < --leader-elect-lease-duration (%s) must hold: "+
			"a leader must give up before its Lease runs out, and retry before it gives up", plan.ErrInvalid, o.retryPeriod, o.renewDeadline, o.leaseDuration)
	}
	if o.qps <= 0 || o.burst < int(o.qps) {
		return fmt.Errorf("%w: --kube-api-qps %g must be above 0 and --kube-api-burst %d at least as much", plan.ErrInvalid, o.qps, o.burst)
	}
	watch := map[string]cache.Config{}
	for _, ns := range o.watch {
		if errs := validation.ValidateNamespaceName(ns, false); len(errs) > 0 {
			return fmt.Errorf("%w: --watch-namespace %q is not a namespace name: %s", plan.ErrInvalid, ns, strings.Join(errs, "; "))
		}
		watch[ns] = cache.Config{}
	}
	opts := g.clientOptions()
	opts.Fence = nil // each run fences its own clients
	c, err := kube.Connect(opts)
	if err != nil {
		return fmt.Errorf("%w: %w", plan.ErrInvalid, err)
	}
	ctx := cmd.Context()
	clusterID, err := c.Identify(ctx)
	if err != nil {
		return err
	}
	setLoggerOnce.Do(func() { ctrl.SetLogger(logr.FromSlogHandler(g.log.Handler())) })
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		return err
	}
	if err := v1alpha1.AddToScheme(scheme); err != nil {
		return err
	}
	leaseNS := o.leaseNS
	if leaseNS == "" {
		leaseNS = c.Namespace
	}
	mo := ctrl.Options{
		Scheme: scheme, LeaderElection: o.leaderElect, LeaderElectionID: "bluegreen-controller",
		LeaderElectionNamespace: leaseNS, LeaderElectionReleaseOnCancel: true,
		LeaseDuration: &o.leaseDuration, RenewDeadline: &o.renewDeadline, RetryPeriod: &o.retryPeriod,
		Metrics: metricsserver.Options{BindAddress: o.metrics}, HealthProbeBindAddress: o.probes,
		GracefulShutdownTimeout: &o.shutdownGrace,
	}
	// Releases, runs' metadata, Services and Deployments are cached;
	// their managed fields are not needed and would double the memory.
	mo.Cache = cache.Options{DefaultTransform: cache.TransformStripManagedFields()}
	if len(watch) > 0 {
		mo.Cache.DefaultNamespaces = watch
	}
	mgr, err := ctrl.NewManager(c.Config, mo)
	if err != nil {
		return fmt.Errorf("start the controller: %w", err)
	}
	if err := mgr.AddHealthzCheck("ping", healthz.Ping); err != nil {
		return err
	}
	if err := mgr.AddReadyzCheck("ping", healthz.Ping); err != nil {
		return err
	}
	id := func() (string, error) { return clusterID, nil }
	rec := &controller.Reconciler{Client: mgr.GetClient(), Kube: c.Kube, Config: c.Config, Records: c.Records, Identity: id,
		Context: c.Context, Clock: g.clock, Log: g.log, LeaseDuration: g.LeaseDuration, CrashAt: run.CrashHookFromEnv(),
		QPS: o.qps, Burst: o.burst, Recorder: mgr.GetEventRecorder("bluegreen-controller")}
	if err := rec.SetupWithManager(mgr); err != nil {
		return err
	}
	g.log.Info("controller starting", "context", c.Context, "leaderElect", o.leaderElect, "watchNamespace", o.watch)
	return mgr.Start(ctx)
}
