//go:build testbed

package gatewayapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
	"sigs.k8s.io/gateway-api/pkg/client/clientset/versioned"

	"github.com/bluegreen/bluegreen/internal/traffic"
	"github.com/bluegreen/bluegreen/internal/traffic/gatewayapi"
	"github.com/bluegreen/bluegreen/test/testbed"
)

const routeNS = "payments-gateway"

// bed is one API server with the Gateway API CRDs, a product's namespaces
// and a router logging into a buffer.
type bed struct {
	config *rest.Config
	gw     versioned.Interface
	router *gatewayapi.Router
	logs   *logBuffer
	target traffic.Target
}

func startBed(t *testing.T) *bed {
	c := testbed.StartT(t, testbed.Options{Name: "gatewayapi", Nodes: -1})
	dyn, err := dynamic.NewForConfig(c.Config)
	if err != nil {
		t.Fatal(err)
	}
	installCRDs(t, dyn)
	createNamespaces(t, c.Client, "payments-blue", "payments-green", routeNS, "gateway-system")
	gw, err := versioned.NewForConfig(c.Config)
	if err != nil {
		t.Fatal(err)
	}
	r, err := gatewayapi.New(traffic.Deps{Config: c.Config})
	if err != nil {
		t.Fatal(err)
	}
	b := &bed{config: c.Config, gw: gw, router: r, logs: &logBuffer{}}
	r.Log = slog.New(slog.NewTextHandler(b.logs, nil))
	sec := validSection()
	sec["statusTimeout"] = "1s"
	raw, err := json.Marshal(sec)
	if err != nil {
		t.Fatal(err)
	}
	if b.target, err = traffic.Namespace(gatewayapi.Name, product, raw); err != nil {
		t.Fatal(err)
	}
	return b
}

func (b *bed) route(t *testing.T, role string) *gwv1.HTTPRoute {
	t.Helper()
	r, err := b.gw.GatewayV1().HTTPRoutes(routeNS).Get(t.Context(), gatewayapi.RouteName("payments", role), metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// wantObserved checks the split Observe reads.
func (b *bed) wantObserved(t *testing.T, want traffic.Split) {
	t.Helper()
	got, err := b.router.Observe(t.Context(), b.target)
	if err != nil {
		t.Fatal(err)
	}
	if got.String() != want.String() {
		t.Fatalf("observed %s, want %s", got, want)
	}
}

// wantPreprod checks that every rule of the preprod route sends all to
// color's namespace.
func (b *bed) wantPreprod(t *testing.T, color string) {
	t.Helper()
	pre := b.route(t, traffic.HostPreprod)
	if len(pre.Spec.Hostnames) != 1 || pre.Spec.Hostnames[0] != "preprod.myapp.com" {
		t.Errorf("preprod hostnames = %v", pre.Spec.Hostnames)
	}
	s, err := gatewayapi.SplitOf(pre, testConfig)
	if err != nil {
		t.Fatal(err)
	}
	if s[color] != 100 {
		t.Fatalf("preprod route sends %s, want all to %s", s, color)
	}
}

func (b *bed) shift(t *testing.T, s traffic.Split) {
	t.Helper()
	if err := b.router.Shift(t.Context(), b.target, s); err != nil {
		t.Fatal(err)
	}
}

// The router writes a product's two routes and their grants on a real API
// server with the Gateway API CRDs, reads the split back, and undoes a
// shift that a Gateway controller rejects or that fails half-way.
func TestRouter(t *testing.T) {
	b := startBed(t)
	ctrl := startController(t, b.gw, routeNS)
	ctx := t.Context()
	blue, green := traffic.All("blue", "green"), traffic.All("green", "blue")

	t.Run("observe before init", func(t *testing.T) {
		_, err := b.router.Observe(ctx, b.target)
		t.Logf("observe: %v", err)
		if !errors.Is(err, traffic.ErrNotAdopted) || !strings.Contains(err.Error(), "not found") {
			t.Fatalf("err = %v, want ErrNotAdopted naming the missing route", err)
		}
	})

	t.Run("init puts all on blue, preprod on green", func(t *testing.T) {
		b.shift(t, blue)
		b.wantObserved(t, blue)
		b.wantPreprod(t, "green")
		prod := b.route(t, traffic.HostProd)
		if prod.Labels[gatewayapi.LabelManagedBy] != "bluegreen" || prod.Labels[gatewayapi.LabelProduct] != "payments" {
			t.Errorf("prod route labels = %v", prod.Labels)
		}
		if len(prod.Spec.Rules) != 2 || len(prod.Spec.Rules[0].BackendRefs) != 2 || *prod.Spec.Rules[0].BackendRefs[0].Port != 8080 {
			t.Errorf("prod route rules = %+v", prod.Spec.Rules)
		}
		if logs := b.logs.Take(); strings.Contains(logs, "not confirmed") || !strings.Contains(logs, "confirmed=true") {
			t.Errorf("with a controller accepting, the shift should be confirmed; logs:\n%s", logs)
		}
	})

	t.Run("progressive 90/10, repeated, writes once", func(t *testing.T) {
		s := traffic.Split{"blue": 90, "green": 10}
		b.shift(t, s)
		gen := b.route(t, traffic.HostProd).Generation
		b.shift(t, s)
		b.wantObserved(t, s)
		b.wantPreprod(t, "green")
		if again := b.route(t, traffic.HostProd).Generation; again != gen {
			t.Errorf("repeating a shift changed the prod route: generation %d, then %d", gen, again)
		}
	})

	t.Run("full switch to green moves preprod to blue", func(t *testing.T) {
		b.shift(t, green)
		b.wantObserved(t, green)
		b.wantPreprod(t, "blue")
		for _, ns := range []string{"payments-blue", "payments-green"} {
			g, err := b.gw.GatewayV1beta1().ReferenceGrants(ns).Get(ctx, gatewayapi.GrantName("payments"), metav1.GetOptions{})
			if err != nil {
				t.Fatalf("referencegrant in %s: %v", ns, err)
			}
			if len(g.Spec.From) != 1 || g.Spec.From[0].Namespace != routeNS || g.Spec.From[0].Kind != "HTTPRoute" || len(g.Spec.To) != 2 || g.Spec.To[0].Kind != "Service" {
				t.Errorf("referencegrant in %s = %+v", ns, g.Spec)
			}
		}
	})

	t.Run("rules that disagree are an error until a shift", func(t *testing.T) {
		prod := b.route(t, traffic.HostProd)
		w := int32(50)
		prod.Spec.Rules[1].BackendRefs[0].Weight = &w
		prod.Spec.Rules[1].BackendRefs[1].Weight = &w
		if _, err := b.gw.GatewayV1().HTTPRoutes(routeNS).Update(ctx, prod, metav1.UpdateOptions{FieldManager: "someone-else"}); err != nil {
			t.Fatal(err)
		}
		_, err := b.router.Observe(ctx, b.target)
		t.Logf("observe: %v", err)
		if err == nil || !strings.Contains(err.Error(), "rules disagree") || !strings.Contains(err.Error(), "bluegreen-payments-prod") {
			t.Fatalf("err = %v, want the rules of bluegreen-payments-prod to disagree", err)
		}
		b.shift(t, green)
		b.wantObserved(t, green)
	})

	t.Run("a rejected shift puts the routes back", func(t *testing.T) {
		prod, pre := b.route(t, traffic.HostProd), b.route(t, traffic.HostPreprod)
		ctrl.Reject("NotAllowedByListeners", "no listener of gateway-system/public allows routes from payments-gateway")
		defer ctrl.Accept()
		err := b.router.Shift(ctx, b.target, traffic.Split{"blue": 30, "green": 70})
		t.Logf("shift: %v", err)
		if !errors.Is(err, gatewayapi.ErrRejected) || !strings.Contains(err.Error(), "NotAllowedByListeners") || !strings.Contains(err.Error(), "back as before") {
			t.Fatalf("err = %v, want a rejection naming its reason and saying the routes are back", err)
		}
		b.wantObserved(t, green)
		b.wantPreprod(t, "blue")
		for _, was := range []*gwv1.HTTPRoute{prod, pre} {
			now, err := b.gw.GatewayV1().HTTPRoutes(routeNS).Get(ctx, was.Name, metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if !equality.Semantic.DeepEqual(was.Spec, now.Spec) {
				t.Errorf("route %s not put back:\nwas %+v\nnow %+v", was.Name, was.Spec, now.Spec)
			}
		}
	})

	t.Run("a failed preprod write puts the prod route back", func(t *testing.T) {
		prod := b.route(t, traffic.HostProd)
		sctx, cancel := context.WithCancel(ctx)
		defer cancel()
		crashed := ""
		r, err := gatewayapi.New(traffic.Deps{Config: b.config, Crash: func(point string) { crashed = point; cancel() }})
		if err != nil {
			t.Fatal(err)
		}
		r.Log = b.router.Log
		err = r.Shift(sctx, b.target, blue)
		t.Logf("shift: %v", err)
		if crashed != gatewayapi.CrashBetweenRoutes {
			t.Errorf("crash point = %q, want %q", crashed, gatewayapi.CrashBetweenRoutes)
		}
		if err == nil || !strings.Contains(err.Error(), "httproute payments-gateway/bluegreen-payments-preprod") {
			t.Fatalf("err = %v, want one naming the preprod route", err)
		}
		b.wantObserved(t, green)
		if now := b.route(t, traffic.HostProd); !equality.Semantic.DeepEqual(prod.Spec, now.Spec) {
			t.Errorf("prod route not put back:\nwas %+v\nnow %+v", prod.Spec, now.Spec)
		}
	})

	t.Run("without a controller a shift stands, not confirmed", func(t *testing.T) {
		ctrl.Stop()
		b.logs.Take()
		b.shift(t, blue)
		b.wantObserved(t, blue)
		b.wantPreprod(t, "green")
		logs := b.logs.Take()
		t.Logf("logs:\n%s", logs)
		if !strings.Contains(logs, "level=WARN") || !strings.Contains(logs, "no Gateway controller reported on the routes: the switch is written but not confirmed") {
			t.Fatalf("logs do not say the switch is not confirmed:\n%s", logs)
		}
	})
}

// A first shift that a controller rejects leaves no route behind.
func TestRejectedInitLeavesNoRoute(t *testing.T) {
	b := startBed(t)
	ctrl := startController(t, b.gw, routeNS)
	ctrl.Reject("RefNotPermitted", "backend not permitted")
	err := b.router.Shift(t.Context(), b.target, traffic.All("blue", "green"))
	if !errors.Is(err, gatewayapi.ErrRejected) || !strings.Contains(err.Error(), "RefNotPermitted") {
		t.Fatalf("err = %v, want a rejection naming RefNotPermitted", err)
	}
	for _, role := range []string{traffic.HostProd, traffic.HostPreprod} {
		_, err := b.gw.GatewayV1().HTTPRoutes(routeNS).Get(t.Context(), gatewayapi.RouteName("payments", role), metav1.GetOptions{})
		if !apierrors.IsNotFound(err) {
			t.Errorf("route %s after a rejected first shift: %v, want not found", role, err)
		}
	}
}
