package kube

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// ClientOptions selects a cluster the way kubectl does.
type ClientOptions struct {
	Kubeconfig string // empty: $KUBECONFIG, then ~/.kube/config
	Context    string // empty: the kubeconfig's current context
	Namespace  string // empty: the context's namespace, then "default"
	// Loader, when set, replaces Kubeconfig and Context: the kubeconfig as
	// kubectl's client flags load and override it (--server, --token,
	// --as, --request-timeout, …; k8s.io/cli-runtime), or the pod's own
	// service account in a cluster.
	Loader clientcmd.ClientConfig
	// QPS and Burst bound the client's request rate (default 50 and 100).
	QPS   float32
	Burst int
	// Fence, when set, sits in the transport of every client built from
	// Clients.Config (see Fence); Clients.Lease stays outside it.
	Fence *Fence
}

// Clients bundles what the scopes talk to.
type Clients struct {
	Config *rest.Config
	Kube   kubernetes.Interface
	// Lease talks to the same cluster outside the Fence: the lock must
	// still be renewed and released while the run's own clients are cut off.
	Lease kubernetes.Interface
	// Records reaches run records (BlueGreenRuns and their Secrets), also
	// outside the Fence: a run that lost its Lease still records that it
	// stopped; optimistic concurrency keeps it from overwriting anyone.
	Records   dynamic.Interface
	Context   string // resolved context name
	Namespace string // resolved namespace
}

// ErrNoKubeconfig means no kubeconfig was found and no cluster was given
// on the command line.
var ErrNoKubeconfig = errors.New("no kubeconfig found")

// kubeconfigPlaces says where a kubeconfig was looked for.
func kubeconfigPlaces(explicit string) string {
	if explicit != "" {
		return "--kubeconfig " + explicit
	}
	env := "$KUBECONFIG (not set)"
	if v := os.Getenv(clientcmd.RecommendedConfigPathEnvVar); v != "" {
		env = "$KUBECONFIG (" + v + ")"
	}
	return env + " and " + clientcmd.RecommendedHomeFile
}

// Connect loads the kubeconfig and builds clients. It does not contact the
// cluster; Ping does.
func Connect(o ClientOptions) (*Clients, error) {
	cc := o.Loader
	if cc == nil {
		rules := clientcmd.NewDefaultClientConfigLoadingRules()
		if o.Kubeconfig != "" {
			rules.ExplicitPath = o.Kubeconfig
		}
		cc = clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{CurrentContext: o.Context})
	}
	raw, err := cc.RawConfig()
	if err != nil {
		return nil, fmt.Errorf("load kubeconfig: %w (check --kubeconfig or $KUBECONFIG)", err)
	}
	ctxName := o.Context
	if ctxName == "" {
		ctxName = raw.CurrentContext
	}
	cfg, err := cc.ClientConfig()
	switch {
	case clientcmd.IsEmptyConfig(err):
		return nil, fmt.Errorf("%w: looked for %s; create one (kind create cluster, minikube start, aws eks update-kubeconfig --name CLUSTER), or give --kubeconfig, or --server and --token", ErrNoKubeconfig, kubeconfigPlaces(o.Kubeconfig))
	case err != nil && ctxName != "" && raw.Contexts[ctxName] == nil:
		return nil, fmt.Errorf("kubeconfig has no context %q (list them with `kubectl config get-contexts`, pick one with --context)", ctxName)
	case err != nil:
		return nil, fmt.Errorf("kubeconfig context %q: %w", ctxName, err)
	}
	if ctxName == "" || raw.Contexts[ctxName] == nil {
		// No context of a kubeconfig: the pod's service account, or a
		// cluster given by --server. The server names it.
		ctxName = cfg.Host
	}
	ns := o.Namespace
	if ns == "" {
		if ns, _, err = cc.Namespace(); err != nil || ns == "" {
			ns = "default"
		}
	}
	cfg.QPS, cfg.Burst = 50, 100
	if o.QPS > 0 {
		cfg.QPS, cfg.Burst = o.QPS, max(o.Burst, int(o.QPS))
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 30 * time.Second // unless --request-timeout says otherwise
	}
	cfg.Wrap(newFirstConn().Wrap)
	lease, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("kubernetes client for context %q: %w", ctxName, err)
	}
	records, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("dynamic client for context %q: %w", ctxName, err)
	}
	cs := lease
	if o.Fence != nil {
		cfg = rest.CopyConfig(cfg)
		cfg.Wrap(o.Fence.Wrap)
		if cs, err = kubernetes.NewForConfig(cfg); err != nil {
			return nil, fmt.Errorf("kubernetes client for context %q: %w", ctxName, err)
		}
	}
	return &Clients{Config: cfg, Kube: cs, Lease: lease, Records: records, Context: ctxName, Namespace: ns}, nil
}

// Ping checks that the API server answers, with a short timeout and an error
// that says which server was unreachable.
func (c *Clients) Ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	_, err := c.Kube.Discovery().RESTClient().Get().AbsPath("/version").Do(ctx).Raw()
	return c.reachErr(ctx, err)
}

// Identify reads the cluster's identity (see ClusterID). It is the
// command's first call, so it stands in for Ping, with the same errors.
func (c *Clients) Identify(ctx context.Context) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	id, err := ClusterID(ctx, c.Kube)
	return id, c.reachErr(ctx, err)
}

// reachErr says which server a first call failed to reach, or what it
// answered.
func (c *Clients) reachErr(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	var uerr *url.Error
	var nerr net.Error
	if errors.As(err, &uerr) || errors.As(err, &nerr) || ctx.Err() != nil {
		return fmt.Errorf("cluster %s (context %q) is unreachable: %w (check the cluster is up and --context)", c.Config.Host, c.Context, err)
	}
	return fmt.Errorf("cluster %s (context %q): %w", c.Config.Host, c.Context, err)
}

// ListAll pages through a dynamic list (opts.Limit per page) and calls
// visit for every object.
func ListAll(ctx context.Context, ri dynamic.ResourceInterface, opts metav1.ListOptions, visit func(*unstructured.Unstructured)) error {
	for {
		list, err := ri.List(ctx, opts)
		if err != nil {
			return err
		}
		for i := range list.Items {
			visit(&list.Items[i])
		}
		if opts.Continue = list.GetContinue(); opts.Continue == "" {
			return nil
		}
	}
}
