package e2e

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/dynamic"
	"sigs.k8s.io/gateway-api/pkg/client/clientset/versioned"

	"github.com/bluegreen/bluegreen/test/gatewaybed"
	"github.com/bluegreen/bluegreen/test/servicebed"
)

// A product behind a Gateway API Gateway, through the CLI: init writes
// bluegreen's two HTTPRoutes with production on blue, deploy moves the
// production route's weights to green and the preprod route to blue,
// rollback moves them back; with no Gateway controller on the test bed,
// each switch says that it is written but not confirmed.
func TestNamespaceReleaseWithGatewayAPI(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	dyn, err := dynamic.NewForConfig(cluster.Config)
	if err != nil {
		t.Fatal(err)
	}
	if err := gatewaybed.InstallGatewayAPICRDs(ctx, dyn); err != nil {
		t.Fatal(err)
	}
	gw, err := versioned.NewForConfig(cluster.Config)
	if err != nil {
		t.Fatal(err)
	}
	blue, green, routes := e.ns+"-shop-blue", e.ns+"-shop-green", e.ns+"-routes"
	for _, ns := range []string{blue, green, routes} {
		if _, err := e.kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = e.kube.CoreV1().Namespaces().Delete(context.Background(), ns, metav1.DeleteOptions{}) })
	}
	wctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	if err := servicebed.InstallPlain(wctx, e.kube, blue, "payment", v1, 2); err != nil {
		t.Fatal(err)
	}
	spec := map[string]any{"kind": "NamespaceRelease", "product": "shop", "namespaces": map[string]string{"blue": blue, "green": green},
		"services": []map[string]string{{"name": "payment"}},
		"gateway": map[string]any{"router": "gateway-api", "prodHost": "shop.example.com", "preprodHost": "preprod.shop.example.com",
			"routeNamespace": routes, "parentRefs": []map[string]string{{"name": "public"}},
			"rules": []map[string]any{{"pathPrefix": "/", "service": "payment", "port": 80}}, "statusTimeout": "1s"}}
	data, err := json.Marshal(spec)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "shop.yaml")
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}
	// weights reads, per route, the weight each namespace gets.
	weights := func() map[string]map[string]int32 {
		t.Helper()
		out := map[string]map[string]int32{}
		for _, role := range []string{"prod", "preprod"} {
			r, err := gw.GatewayV1().HTTPRoutes(routes).Get(ctx, "bluegreen-shop-"+role, metav1.GetOptions{})
			if err != nil {
				t.Fatalf("route %s: %v", role, err)
			}
			out[role] = map[string]int32{}
			for _, rule := range r.Spec.Rules {
				for _, ref := range rule.BackendRefs {
					if ref.Weight != nil && *ref.Weight > 0 {
						out[role][string(*ref.Namespace)] += *ref.Weight
					}
				}
			}
		}
		return out
	}
	routed := func(what, prod, preprod string) {
		t.Helper()
		w := weights()
		if len(w["prod"]) != 1 || w["prod"][prod] == 0 || len(w["preprod"]) != 1 || w["preprod"][preprod] == 0 {
			t.Fatalf("after %s: weights %v, want production on %s and preprod on %s", what, w, prod, preprod)
		}
	}
	ops := e.machine("ops")

	// When the product is adopted
	r := ops.must("namespace", "init", "-f", file, "--active", "blue")
	routed("init", blue, green)
	if !strings.Contains(r.stderr, "not confirmed") {
		t.Fatalf("init with no Gateway controller should say the switch is not confirmed:\n%s", r)
	}
	for _, ns := range []string{blue, green} {
		if _, err := gw.GatewayV1beta1().ReferenceGrants(ns).Get(ctx, "bluegreen-shop", metav1.GetOptions{}); err != nil {
			t.Fatalf("ReferenceGrant in %s: %v", ns, err)
		}
	}

	// And a release of payment v2 runs, then is rolled back
	ops.must("namespace", "deploy", "-f", file, "--image", "payment="+v2, "--yes")
	routed("deploy", green, blue)
	st := ops.must("namespace", "status", "-f", file, "-o", "json")
	var view struct {
		Production map[string]int `json:"production"`
	}
	if err := json.Unmarshal([]byte(st.stdout), &view); err != nil || view.Production["green"] != 100 {
		t.Fatalf("status after the release: %v\n%s", err, st.stdout)
	}
	ops.must("namespace", "rollback", "-f", file)

	// Then the routes send production to blue again
	routed("rollback", blue, green)
}
