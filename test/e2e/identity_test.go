package e2e

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/bluegreen/bluegreen/test/servicebed"
	"github.com/bluegreen/bluegreen/test/testbed"
)

// kubeconfigAs writes a kubeconfig whose context ctxName reaches c.
func kubeconfigAs(t *testing.T, c *testbed.Cluster, ctxName, path string) {
	t.Helper()
	cfg, err := clientcmd.LoadFromFile(c.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	cur := cfg.Contexts[cfg.CurrentContext]
	if cur == nil {
		t.Fatalf("kubeconfig %s has no current context", c.Kubeconfig)
	}
	cfg.Contexts = map[string]*clientcmdapi.Context{ctxName: cur}
	cfg.CurrentContext = ctxName
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		t.Fatal(err)
	}
}

// Runs belong to the cluster, not to the kubeconfig context's name: a
// cluster recreated under the same context name is not blocked by a
// paused run of the old one, and two clusters with the same namespace and
// app keep their runs apart.
func TestRunsBelongToTheClusterNotTheContextName(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	old := testbed.StartT(t, testbed.Options{Name: "ident-old"})
	fresh := testbed.StartT(t, testbed.Options{Name: "ident-new"})
	home := t.TempDir()
	kc := filepath.Join(home, "kubeconfig")
	run := func(args ...string) result {
		t.Helper()
		m := machine{e: &env{t: t, ns: "shop"}, user: "ops", home: home, kubeconfig: kc}
		return m.cli(args...)
	}
	for _, c := range []*testbed.Cluster{old, fresh} {
		if _, err := c.Client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "shop"}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		if err := servicebed.InstallBlueGreen(ctx, c.Client, servicebed.App{Namespace: "shop", Name: "shop", Image: v1, Blue: 1}); err != nil {
			t.Fatal(err)
		}
		// Production must be up before a release: wait for blue's pod.
		if err := testbed.WaitFor(ctx, func(ctx context.Context) (bool, error) {
			d, err := c.Client.AppsV1().Deployments("shop").Get(ctx, "shop-blue", metav1.GetOptions{})
			return err == nil && d.Status.ReadyReplicas == 1, nil
		}); err != nil {
			t.Fatalf("shop-blue never became ready in %s: %v", c.Name, err)
		}
	}

	// Given a paused release in the old cluster, reached as context "prod"
	kubeconfigAs(t, old, "prod", kc)
	if r := run("deploy", "shop", "--image", v2, "--pause"); r.code != 0 {
		t.Fatalf("deploy --pause in the old cluster: %s", r)
	}

	// When "prod" now names a new cluster with the same namespace and app
	kubeconfigAs(t, fresh, "prod", kc)

	// Then a release there is not blocked by the old cluster's paused run
	if r := run("deploy", "shop", "--image", v3, "--yes"); r.code != 0 || strings.Contains(r.stderr, "unfinished") {
		t.Fatalf("deploy in the recreated cluster: %s", r)
	}
	// And the old cluster still holds its own paused run, which promotes
	kubeconfigAs(t, old, "prod", kc)
	if r := run("status", "shop"); !strings.Contains(r.stdout, "paused") || strings.Contains(r.stdout, v3) {
		t.Fatalf("the old cluster's status should show only its paused run:\n%s", r)
	}
	if r := run("promote", "shop"); r.code != 0 {
		t.Fatalf("promote in the old cluster: %s", r)
	}
}
