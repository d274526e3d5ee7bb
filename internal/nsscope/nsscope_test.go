//go:build testbed

package nsscope_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/bluegreen/bluegreen/internal/check"
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
	p := startProduct(t, "nsscope")
	c, gws, rel, target, router, namespaces := p.c, p.gws, p.rel, p.target, p.router, p.namespaces

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

// product is a product of two services in two namespaces behind two real
// nginx gateways, production on blue.
type product struct {
	c          *testbed.Cluster
	gws        []*gatewaybed.Nginx
	rel        plan.NamespaceRelease
	target     traffic.Target
	router     traffic.Router
	namespaces map[plan.Color]string
}

func startProduct(t *testing.T, name string) product {
	ctx := t.Context()
	c := testbed.StartT(t, testbed.Options{Name: name})
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
	return product{c: c, gws: gws, rel: rel, target: target, router: router, namespaces: namespaces}
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

// gate is a webhook check's receiver: it records every call and fails the
// watch from its failWatchAt-th call on.
type gate struct {
	mu          sync.Mutex
	calls       []check.WebhookPayload
	watchCalls  int
	failWatchAt int
}

func (g *gate) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var p check.WebhookPayload
	_ = json.NewDecoder(r.Body).Decode(&p)
	g.mu.Lock()
	defer g.mu.Unlock()
	g.calls = append(g.calls, p)
	if p.Phase == "watch" {
		g.watchCalls++
		if g.watchCalls >= g.failWatchAt {
			http.Error(w, "error rate 12% on payment", http.StatusInternalServerError)
		}
	}
}

// A service's checks go through every gateway with the preprod host and
// reach the idle namespace; in the watch window they go with the
// production host, and a failing one rolls both gateways back.
func TestChecksGoThroughEveryGatewayAndAFailingWatchRollsBack(t *testing.T) {
	ctx := t.Context()
	p := startProduct(t, "nscheck")
	hook := &gate{failWatchAt: 3}
	srv := httptest.NewServer(hook)
	t.Cleanup(srv.Close)
	rel := p.rel
	rel.Services[0].Checks = []check.Spec{
		// The backend echoes what reached it. Before the switch only the
		// preprod host reaches green: the check sent it.
		{Name: "reaches-green", HTTP: &check.HTTPConfig{URL: "/payment/healthz", Retries: 1,
			BodyContains: `"color":"green","service":"payments","version":"v2"`}},
	}
	rel.Checks = []check.Spec{{Name: "gate", Webhook: &check.WebhookConfig{URL: srv.URL}}}
	rel.WatchWindow, rel.WatchInterval = plan.Duration(30*time.Second), plan.Duration(200*time.Millisecond)
	obs, err := nsscope.Observe(ctx, p.c.Client, rel, p.router, p.target)
	if err != nil {
		t.Fatal(err)
	}
	steps, err := plan.NamespaceDeploy(obs, rel, "nginx", p.target)
	if err != nil {
		t.Fatal(err)
	}
	spec, _ := json.Marshal(rel)
	r := &journal.Run{ID: "20261203-100000.000-bbbbbb", Scope: journal.ScopeNamespace, Operation: "deploy", Namespace: p.namespaces[plan.Blue],
		App: rel.Product, Spec: spec, Steps: steps, State: journal.Running, Approved: true}
	store, err := journal.OpenBolt(filepath.Join(t.TempDir(), "runs.db"))
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	e := &engine.Engine{Store: store, Clock: clock.Real{}, Log: log, Parallelism: 4,
		Actions: nsscope.Actions(nsscope.Deps{Service: service.Deps{Client: p.c.Client, Clock: clock.Real{}, Log: log,
			CheckDefaults: check.Defaults{Retries: 1, Interval: 100 * time.Millisecond}}, Router: p.router})}

	// When the release runs, and the watch's third call fails
	err = e.Run(ctx, r)

	// Then the run failed in the watch window, naming the check and the gateway, and rolled back
	if !errors.Is(err, engine.ErrRolledBack) || !strings.Contains(err.Error(), "watch window: check gate through gw-1 (Host myapp.com) failed against green (payments-green)") ||
		!strings.Contains(err.Error(), "error rate 12% on payment") {
		t.Fatalf("release: %v; want a rollback naming the watch, the check and the gateway", err)
	}
	serves(t, p.gws, "blue", "green")
	hook.mu.Lock()
	defer hook.mu.Unlock()
	seen := map[string]int{}
	for _, c := range hook.calls {
		seen[c.Phase+" "+c.Host+" "+c.BaseURL+" "+c.Color+" "+c.Namespace]++
	}
	for _, g := range p.gws {
		for _, want := range []string{
			"preview preprod.myapp.com http://" + g.Address() + " green payments-green",
			"watch myapp.com http://" + g.Address() + " green payments-green",
		} {
			if seen[want] == 0 {
				t.Errorf("no gate call %q; calls: %v", want, seen)
			}
		}
	}
	if st := r.Step("check-preprod/payment"); st == nil || (st.State != journal.Done && st.State != journal.Undone) {
		t.Errorf("check-preprod/payment: %+v; want it passed through both gateways", st)
	}
}
