package gatewayapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
	gwac "sigs.k8s.io/gateway-api/applyconfiguration/apis/v1"
	"sigs.k8s.io/gateway-api/pkg/client/clientset/versioned"

	"github.com/bluegreen/bluegreen/internal/clock"
	"github.com/bluegreen/bluegreen/internal/kube"
	"github.com/bluegreen/bluegreen/internal/traffic"
)

// Name is the router's name in specs.
const Name = "gateway-api"

// OptionConfig is the target option holding the router's Config as JSON.
const OptionConfig = "gatewayAPI"

// CrashBetweenRoutes is the point Shift passes to traffic.Deps.Crash
// between writing the prod route and writing the preprod route.
const CrashBetweenRoutes = "route-prod"

func init() {
	traffic.Register(traffic.Plugin{Name: Name, New: func(d traffic.Deps) (traffic.Router, error) {
		r, err := New(d)
		if err != nil {
			return nil, err
		}
		return r, nil
	}, Namespace: parseSection})
}

// Router moves a product's hosts between its two namespaces by writing the
// weights of two HTTPRoutes.
type Router struct {
	client versioned.Interface
	clock  clock.Clock
	crash  func(point string)
	// Log receives the router's events; nil means slog.Default().
	Log *slog.Logger
}

// New builds the router from d. It needs d.Config, from which it builds its
// Gateway API client; d.Clock (nil: the wall clock) paces its wait for the
// routes' status, and d.Crash is called between the two route writes.
func New(d traffic.Deps) (*Router, error) {
	if d.Config == nil {
		return nil, errors.New("no REST config: set traffic.Deps.Config, from which the gateway-api router builds its Gateway API client")
	}
	cs, err := versioned.NewForConfig(d.Config)
	if err != nil {
		return nil, fmt.Errorf("gateway api client: %w", err)
	}
	clk := d.Clock
	if clk == nil {
		clk = clock.Real{}
	}
	return &Router{client: cs, clock: clk, crash: d.Crash, Log: d.Log}, nil
}

func (r *Router) log() *slog.Logger {
	if r.Log != nil {
		return r.Log
	}
	return slog.Default()
}

// Observe implements traffic.Router: the split the prod route's weights
// carry, or an error when its rules disagree.
func (r *Router) Observe(ctx context.Context, t traffic.Target) (traffic.Split, error) {
	cfg, err := config(t)
	if err != nil {
		return nil, err
	}
	name := RouteName(cfg.Product, traffic.HostProd)
	route, err := r.client.GatewayV1().HTTPRoutes(cfg.RouteNamespace).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, fmt.Errorf("httproute %s/%s not found: %w", cfg.RouteNamespace, name, traffic.ErrNotAdopted)
	}
	if err != nil {
		return nil, kube.Transient(fmt.Errorf("read httproute %s/%s: %w", cfg.RouteNamespace, name, err))
	}
	return SplitOf(route, cfg)
}

// Shift implements traffic.Router. It grants the route namespace access to
// each color's Services, writes the prod route with split s, then the
// preprod route with everything on the idle color (see PreprodColor), and
// waits for the Gateway controllers to accept both. It is all or nothing:
// when the preprod write fails, or a controller rejects a route, the routes
// are put back as they were before the shift (a route that did not exist
// is deleted). When no controller reports within the status timeout, the
// shift stands and a warning says it is not confirmed.
func (r *Router) Shift(ctx context.Context, t traffic.Target, s traffic.Split) error {
	cfg, err := config(t)
	if err != nil {
		return err
	}
	cs := colors(cfg.Namespaces)
	if err := traffic.ValidateSplit(s, cs); err != nil {
		return fmt.Errorf("shift %s: %w", cfg.Product, err)
	}
	before, err := r.read(ctx, cfg)
	if err != nil {
		return fmt.Errorf("shift %s to %s: %w", cfg.Product, s, err)
	}
	idle := PreprodColor(s, reaches(before[traffic.HostPreprod], cfg), cs)
	log := r.log().With("router", Name, "product", cfg.Product, "split", s.String())
	log.InfoContext(ctx, "switching traffic", "preprod", idle)
	start := r.clock.Now()
	confirmed, err := r.write(ctx, cfg, s, idle, before)
	if err != nil {
		return fmt.Errorf("shift %s to %s: %w", cfg.Product, s, err)
	}
	if !confirmed {
		log.WarnContext(ctx, "no Gateway controller reported on the routes: the switch is written but not confirmed",
			"routes", []string{RouteName(cfg.Product, traffic.HostProd), RouteName(cfg.Product, traffic.HostPreprod)},
			"namespace", cfg.RouteNamespace, "timeout", cfg.StatusTimeout.String())
	}
	log.InfoContext(ctx, "switched traffic", "preprod", idle, "confirmed", confirmed, "elapsed", clock.Since(r.clock, start))
	return nil
}

// write grants, writes the prod route with split s and the preprod route
// with everything on idle, and waits for their status (see Shift). It
// reports whether a controller confirmed both routes.
func (r *Router) write(ctx context.Context, cfg Config, s traffic.Split, idle string, before map[string]*gwv1.HTTPRoute) (bool, error) {
	if err := r.grant(ctx, cfg); err != nil {
		return false, err
	}
	written := map[string]*gwv1.HTTPRoute{}
	prod, err := r.apply(ctx, routeApply(cfg, traffic.HostProd, cfg.ProdHost, s))
	if err != nil {
		return false, err
	}
	written[traffic.HostProd] = prod
	if r.crash != nil {
		r.crash(CrashBetweenRoutes)
	}
	pre, err := r.apply(ctx, routeApply(cfg, traffic.HostPreprod, cfg.PreprodHost, traffic.Split{idle: 100}))
	if err != nil {
		return false, r.undo(ctx, cfg, before, written, err, fmt.Sprintf("httproute %s/%s is back as before the shift", prod.Namespace, prod.Name))
	}
	written[traffic.HostPreprod] = pre
	confirmed, err := r.confirm(ctx, cfg, []*gwv1.HTTPRoute{prod, pre})
	if errors.Is(err, ErrRejected) {
		return false, r.undo(ctx, cfg, before, written, err, "the routes are back as before the shift: fix what the reason names, then shift again")
	}
	if err != nil {
		return false, fmt.Errorf("routes written, waiting for their status: %w", err)
	}
	return confirmed, nil
}

// undo puts the written routes back and returns cause, saying what became
// of them: back says so when the restore succeeded.
func (r *Router) undo(ctx context.Context, cfg Config, before, written map[string]*gwv1.HTTPRoute, cause error, back string) error {
	if err := r.restore(ctx, cfg, before, written); err != nil {
		return errors.Join(cause, err)
	}
	return fmt.Errorf("%w (%s)", cause, back)
}

// read returns the product's routes as they are, by role; a missing route
// is nil.
func (r *Router) read(ctx context.Context, cfg Config) (map[string]*gwv1.HTTPRoute, error) {
	out := map[string]*gwv1.HTTPRoute{}
	for _, role := range []string{traffic.HostProd, traffic.HostPreprod} {
		name := RouteName(cfg.Product, role)
		route, err := r.client.GatewayV1().HTTPRoutes(cfg.RouteNamespace).Get(ctx, name, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
			out[role] = nil
		case err != nil:
			return nil, kube.Transient(fmt.Errorf("read httproute %s/%s: %w", cfg.RouteNamespace, name, err))
		default:
			out[role] = route
		}
	}
	return out, nil
}

// grant ensures the ReferenceGrant in each color namespace other than the
// route namespace; a route needs none to reach Services of its own.
func (r *Router) grant(ctx context.Context, cfg Config) error {
	for _, c := range colors(cfg.Namespaces) {
		ns := cfg.Namespaces[c]
		if ns == cfg.RouteNamespace {
			continue
		}
		_, err := r.client.GatewayV1beta1().ReferenceGrants(ns).Apply(ctx, grantApply(cfg, ns), applyOptions())
		if err != nil {
			return kube.Transient(fmt.Errorf("write referencegrant %s/%s: %w", ns, GrantName(cfg.Product), err))
		}
	}
	return nil
}

// apply writes a route by server-side apply. Force takes over fields that
// another manager changed since (a hand edit of a weight): the split
// bluegreen was asked for wins, as a Service selector patch would.
func (r *Router) apply(ctx context.Context, route *gwac.HTTPRouteApplyConfiguration) (*gwv1.HTTPRoute, error) {
	out, err := r.client.GatewayV1().HTTPRoutes(*route.Namespace).Apply(ctx, route, applyOptions())
	if err != nil {
		return nil, kube.Transient(fmt.Errorf("write httproute %s/%s: %w", *route.Namespace, *route.Name, err))
	}
	return out, nil
}

func applyOptions() metav1.ApplyOptions {
	return metav1.ApplyOptions{FieldManager: FieldManager, Force: true}
}

// restore puts each written route back as before holds it, prod first so
// that production is back on its old split soonest; a route that did not
// exist before is deleted. It runs without ctx's cancellation: an undo cut
// short would leave the half-written shift it exists to undo.
func (r *Router) restore(ctx context.Context, cfg Config, before, written map[string]*gwv1.HTTPRoute) error {
	ctx = context.WithoutCancel(ctx)
	var errs []error
	for _, role := range []string{traffic.HostProd, traffic.HostPreprod} {
		w, ok := written[role]
		if !ok {
			continue
		}
		routes := r.client.GatewayV1().HTTPRoutes(cfg.RouteNamespace)
		prev := before[role]
		if prev == nil {
			uid := w.UID
			err := routes.Delete(ctx, w.Name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid}})
			if err != nil && !apierrors.IsNotFound(err) {
				errs = append(errs, fmt.Errorf("put httproute %s/%s back (delete it, it did not exist before): %w", w.Namespace, w.Name, err))
			}
			continue
		}
		ac, err := restoreApply(cfg, role, prev)
		if err == nil {
			_, err = r.apply(ctx, ac)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("put httproute %s/%s back: %w", w.Namespace, w.Name, err))
		}
	}
	if len(errs) == 0 {
		r.log().InfoContext(ctx, "put the routes back", "router", Name, "product", cfg.Product)
	}
	return errors.Join(errs...)
}
