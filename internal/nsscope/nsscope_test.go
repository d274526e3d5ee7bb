//go:build testbed

package nsscope_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/bluegreen/bluegreen/internal/clock"
	"github.com/bluegreen/bluegreen/internal/engine"
	"github.com/bluegreen/bluegreen/internal/journal"
	"github.com/bluegreen/bluegreen/internal/nsscope"
	"github.com/bluegreen/bluegreen/internal/plan"
	"github.com/bluegreen/bluegreen/internal/service"
	"github.com/bluegreen/bluegreen/internal/traffic"
	"github.com/bluegreen/bluegreen/test/gatewaybed"
	"github.com/bluegreen/bluegreen/test/servicebed"
	"github.com/bluegreen/bluegreen/test/testbed"
)

const (
	v1 = "registry.example.com/payments:1.0.0"
	v2 = "registry.example.com/payments:2.0.0"
)

// A product's release rolls the idle namespace out, switches both real
// nginx gateways to it in one step, and a rollback switches them back,
// keeping the new version in the idle namespace for re-testing.
func TestReleaseAndRollBackAProduct(t *testing.T) {
	ctx := t.Context()
	c := testbed.StartT(t, testbed.Options{Name: "nsscope"})
	namespaces := map[plan.Color]string{plan.Blue: "payments-blue", plan.Green: "payments-green"}
	services := []string{"payment", "user-login"}
	for color, ns := range namespaces {
		if _, err := c.Client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		replicas := int32(3)
		if color == plan.Green {
			replicas = 0
		}
		for _, s := range services {
			wctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
			err := servicebed.InstallPlain(wctx, c.Client, ns, s, v1, replicas)
			cancel()
			if err != nil {
				t.Fatal(err)
			}
		}
	}

	// Two gateways in front of each namespace's entry point, production on blue.
	gws := []*gatewaybed.Nginx{gatewaybed.StartNginx(t, "gw-1"), gatewaybed.StartNginx(t, "gw-2")}
	entry := map[string]*gatewaybed.Backend{"blue": gatewaybed.StartBackend(t, "blue", "payments", "v1"), "green": gatewaybed.StartBackend(t, "green", "payments", "v2")}
	section := map[string]any{"router": "nginx", "prodHost": "myapp.com", "preprodHost": "preprod.myapp.com",
		"upstreams": map[string]any{"blue": map[string]any{"servers": []string{entry["blue"].Addr()}}, "green": map[string]any{"servers": []string{entry["green"].Addr()}}}}
	section["gateways"] = gatewaybed.Gateways(gws...)
	raw, err := json.Marshal(section)
	if err != nil {
		t.Fatal(err)
	}
	rel := plan.NamespaceRelease{Kind: plan.NamespaceKind, Product: "payments", Namespaces: namespaces,
		Services: []plan.NamespaceService{{Name: "payment", Image: v2}, {Name: "user-login"}}, Gateway: raw, Approval: "auto"}
	rel.Defaults()
	target, err := traffic.Namespace("nginx", rel.Switch(), raw)
	if err != nil {
		t.Fatal(err)
	}
	router, err := traffic.New("nginx", traffic.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	if err := router.Shift(ctx, target, traffic.All("blue", "green")); err != nil {
		t.Fatalf("put production on blue: %v", err)
	}

	// When the release runs
	obs, err := nsscope.Observe(ctx, c.Client, rel, router, target)
	if err != nil {
		t.Fatal(err)
	}
	steps, err := plan.NamespaceDeploy(obs, rel, "nginx", target)
	if err != nil {
		t.Fatal(err)
	}
	spec, _ := json.Marshal(rel)
	r := &journal.Run{ID: "20261203-090000.000-aaaaaa", Scope: journal.ScopeNamespace, Operation: "deploy", Namespace: namespaces[plan.Blue],
		App: rel.Product, Spec: spec, Steps: steps, State: journal.Running, Approved: true}
	store, err := journal.OpenBolt(filepath.Join(t.TempDir(), "runs.db"))
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	e := &engine.Engine{Store: store, Clock: clock.Real{}, Log: log, Parallelism: 4,
		Actions: nsscope.Actions(nsscope.Deps{Service: service.Deps{Client: c.Client, Clock: clock.Real{}, Log: log}, Router: router})}
	if err := e.Run(ctx, r); err != nil {
		t.Fatalf("release: %v", err)
	}

	// Then green runs v2 at blue's size, and both gateways send production there
	dep, err := c.Client.AppsV1().Deployments("payments-green").Get(ctx, "payment", metav1.GetOptions{})
	if err != nil || dep.Spec.Template.Spec.Containers[0].Image != v2 || *dep.Spec.Replicas != 3 {
		t.Fatalf("payments-green/payment after the release: %v, %v", dep.Spec, err)
	}
	login, err := c.Client.AppsV1().Deployments("payments-green").Get(ctx, "user-login", metav1.GetOptions{})
	if err != nil || login.Spec.Template.Spec.Containers[0].Image != v1 || *login.Spec.Replicas != 3 {
		t.Fatalf("payments-green/user-login after the release: %v, %v", login.Spec, err)
	}
	serves(t, gws, "green", "blue")

	// When it is rolled back
	if err := e.Rollback(ctx, r, "test"); err != nil {
		t.Fatalf("rollback: %v", err)
	}

	// Then production is on blue again on both gateways, and green keeps v2
	serves(t, gws, "blue", "green")
	if dep, err := c.Client.AppsV1().Deployments("payments-green").Get(ctx, "payment", metav1.GetOptions{}); err != nil || dep.Spec.Template.Spec.Containers[0].Image != v2 {
		t.Fatalf("payments-green/payment after the rollback: %v, %v; want v2 kept for re-testing", dep.Spec.Template.Spec.Containers, err)
	}
}

// serves checks, through every gateway, which color each host reaches.
func serves(t *testing.T, gws []*gatewaybed.Nginx, prod, preprod string) {
	t.Helper()
	for _, g := range gws {
		for host, want := range map[string]string{"myapp.com": prod, "preprod.myapp.com": preprod} {
			resp, a, err := gatewaybed.Get(t.Context(), g.Address(), host, "/")
			if err != nil || resp.StatusCode != 200 || a.Color != want {
				t.Fatalf("%s via %s: %v %v from %q, want %s", host, g.Name, resp, err, a.Color, want)
			}
		}
	}
}
