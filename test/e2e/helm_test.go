package e2e

import (
	"context"
	"log/slog"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"helm.sh/helm/v4/pkg/action"
	"helm.sh/helm/v4/pkg/chart/loader"
	helmkube "helm.sh/helm/v4/pkg/kube"
	authzv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/dynamic"
)

// The chart installs the controller with the rights it needs and no more:
// installed for one namespace through the Helm SDK, the controller runs
// with the chart's own arguments as the chart's ServiceAccount (the test
// bed's nodes run no containers, so it runs here, impersonating it). It
// releases the app of its namespace and cannot touch the other's; upgraded
// to cluster-wide, it releases the other too. Uninstalling the chart keeps
// the CRDs and every run record.
func TestHelmChartRunsTheControllerUnderItsOwnRights(t *testing.T) {
	t.Parallel()
	mine, other := newEnv(t), newEnv(t)
	mine.givenBlueGreenApp("shop", v1, 2)
	other.givenBlueGreenApp("shop", v1, 2)
	ctx := context.Background()

	suffix := strings.TrimPrefix(mine.ns, "e2e-")
	system, rel := "bluegreen-"+suffix, "bg"+suffix
	fullname, sa := rel+"-bluegreen", "system:serviceaccount:bluegreen-"+suffix+":"+rel+"-bluegreen"
	cfg := helmConfig(t, system)
	ch, err := loader.Load(filepath.Join("..", "..", "charts", "bluegreen"))
	if err != nil {
		t.Fatal(err)
	}
	in := action.NewInstall(cfg)
	in.ReleaseName, in.Namespace, in.CreateNamespace = rel, system, true
	in.WaitStrategy, in.Timeout = helmkube.StatusWatcherStrategy, 3*time.Minute
	if _, err := in.RunWithContext(ctx, ch, map[string]any{"watchNamespaces": []any{mine.ns}}); err != nil {
		t.Fatalf("helm install: %v", err)
	}
	t.Cleanup(func() {
		_, _ = uninstall(t, system).Run(rel)
		_ = cluster.Client.CoreV1().Namespaces().Delete(context.Background(), system, metav1.DeleteOptions{})
	})
	d, err := cluster.Client.AppsV1().Deployments(system).Get(ctx, fullname, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if d.Status.ReadyReplicas != 2 {
		t.Fatalf("the chart's Deployment has %d ready replicas, want 2", d.Status.ReadyReplicas)
	}

	// What the ServiceAccount may do, as the API server decides it.
	may := func(ns, verb, group, resource string) bool {
		t.Helper()
		r, err := cluster.Client.AuthorizationV1().SubjectAccessReviews().Create(ctx, &authzv1.SubjectAccessReview{Spec: authzv1.SubjectAccessReviewSpec{
			User: sa, Groups: []string{"system:serviceaccounts", "system:serviceaccounts:" + system},
			ResourceAttributes: &authzv1.ResourceAttributes{Namespace: ns, Verb: verb, Group: group, Resource: resource},
		}}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return r.Status.Allowed
	}
	for _, c := range []struct {
		ns, verb, group, resource string
		want                      bool
	}{
		{mine.ns, "patch", "apps", "deployments", true},
		{mine.ns, "get", "", "secrets", true},
		{mine.ns, "patch", "bluegreen.dev", "bluegreenreleases/status", true},
		{mine.ns, "delete", "apps", "deployments", false},
		{mine.ns, "create", "", "services", false},
		{mine.ns, "list", "", "secrets", false},
		{other.ns, "get", "", "secrets", false},
		{other.ns, "patch", "apps", "deployments", false},
		{other.ns, "patch", "bluegreen.dev", "bluegreenreleases/status", false},
		{"", "list", "", "secrets", false},
		{"", "create", "rbac.authorization.k8s.io", "clusterroles", false},
		{system, "update", "coordination.k8s.io", "leases", true},
	} {
		if got := may(c.ns, c.verb, c.group, c.resource); got != c.want {
			t.Errorf("namespaced install: may %s %s.%s in %q = %v, want %v", c.verb, c.resource, c.group, c.ns, got, c.want)
		}
	}

	dyn, err := dynamic.NewForConfig(cluster.Config)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range []*env{mine, other} {
		createRelease(t, dyn.Resource(releasesGVR).Namespace(e.ns), "shop", v2)
	}

	ctl := startController(t, chartArgs(t, d.Spec.Template.Spec.Containers[0].Args, sa)...)
	mine.eventually("the controller answers /readyz", func() bool { return get("http://"+ctl.probes+"/readyz") == http.StatusOK })
	mine.eventually("the controller switches its namespace's app to "+v2, func() bool {
		s := mine.state("shop")
		return s.ActiveSelects == "green" && s.GreenImage == v2 &&
			releaseStatus(t, dyn.Resource(releasesGVR).Namespace(mine.ns), "shop")["phase"] == "Idle"
	})
	if s, st := other.state("shop"), releaseStatus(t, dyn.Resource(releasesGVR).Namespace(other.ns), "shop"); s.ActiveSelects != "blue" || s.GreenImage == v2 || st["phase"] != "" {
		t.Fatalf("the app of a namespace the controller does not watch changed: %+v, status %v", s, st)
	}
	if strings.Contains(ctl.logs.String(), "forbidden") {
		t.Fatalf("the controller was refused something under the chart's rights:\n%s", ctl.logs.String())
	}
	ctl.stop()

	// Cluster-wide: the other namespace's release goes through too.
	up := action.NewUpgrade(helmConfig(t, system))
	up.Namespace, up.ResetValues = system, true
	up.WaitStrategy, up.Timeout = helmkube.StatusWatcherStrategy, 3*time.Minute
	if _, err := up.RunWithContext(ctx, rel, ch, map[string]any{}); err != nil {
		t.Fatalf("helm upgrade: %v", err)
	}
	if !may(other.ns, "patch", "bluegreen.dev", "bluegreenreleases/status") || may("", "list", "", "secrets") {
		t.Fatalf("cluster-wide install: the rights are not those of every namespace's releases (and no more)")
	}
	if d, err = cluster.Client.AppsV1().Deployments(system).Get(ctx, fullname, metav1.GetOptions{}); err != nil {
		t.Fatal(err)
	}
	args := d.Spec.Template.Spec.Containers[0].Args
	if slices.ContainsFunc(args, func(a string) bool { return strings.HasPrefix(a, "--watch-namespace") }) {
		t.Fatalf("cluster-wide install still watches namespaces: %v", args)
	}
	ctl = startController(t, chartArgs(t, args, sa)...)
	other.eventually("the controller switches the other namespace's app to "+v2, func() bool {
		s := other.state("shop")
		return s.ActiveSelects == "green" && s.GreenImage == v2 &&
			releaseStatus(t, dyn.Resource(releasesGVR).Namespace(other.ns), "shop")["phase"] == "Idle"
	})
	ctl.stop()

	if _, err := uninstall(t, system).Run(rel); err != nil {
		t.Fatalf("helm uninstall: %v", err)
	}
	crds := dyn.Resource(schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"})
	for _, name := range []string{"bluegreenreleases.bluegreen.dev", "bluegreenruns.bluegreen.dev"} {
		if _, err := crds.Get(ctx, name, metav1.GetOptions{}); err != nil {
			t.Errorf("after helm uninstall, CRD %s: %v", name, err)
		}
	}
	for _, e := range []*env{mine, other} {
		if r := e.mustCLI("status", "shop", "-o", "json"); !strings.Contains(r.stdout, `"state": "succeeded"`) {
			t.Errorf("after helm uninstall, the run in %s is gone:\n%s", e.ns, r.stdout)
		}
	}
}

// helmConfig is the Helm SDK's configuration for namespace ns of the test
// bed, with releases stored in Secrets as the helm command does.
func helmConfig(t *testing.T, ns string) *action.Configuration {
	t.Helper()
	flags := genericclioptions.NewConfigFlags(false)
	kubeconfig := cluster.Kubeconfig
	flags.KubeConfig, flags.Namespace = &kubeconfig, &ns
	cfg := action.NewConfiguration()
	cfg.SetLogger(slog.DiscardHandler)
	if err := cfg.Init(flags, ns, "secret"); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// uninstall is `helm uninstall` in namespace ns, waiting for nothing.
func uninstall(t *testing.T, ns string) *action.Uninstall {
	t.Helper()
	u := action.NewUninstall(helmConfig(t, ns))
	u.WaitStrategy = helmkube.HookOnlyStrategy
	return u
}

// chartArgs turns the chart's container arguments into startController's:
// without the verb (startController adds it), as the ServiceAccount.
func chartArgs(t *testing.T, args []string, sa string) []string {
	t.Helper()
	if len(args) == 0 || args[0] != "controller" {
		t.Fatalf("the chart's container does not run `bluegreen controller`: %v", args)
	}
	return append(slices.Clone(args[1:]), "--as", sa)
}

// get returns the status code of a GET of url (0 when it fails).
func get(url string) int {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0
	}
	_ = resp.Body.Close()
	return resp.StatusCode
}
