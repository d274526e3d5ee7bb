package gatewayapi

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/bluegreen/bluegreen/internal/clock"
	"github.com/bluegreen/bluegreen/internal/kube"
)

// ErrRejected is wrapped by Shift's error when a Gateway controller
// reports a route it wrote as not Accepted or its references as not
// resolved.
var ErrRejected = errors.New("rejected by the Gateway controller")

// statusPoll is how often the wait for status looks again while its watch
// is down; while the watch is open, every status write wakes it.
const statusPoll = 250 * time.Millisecond

// reported are the conditions a controller sets on each parent of a route
// it has processed: Accepted (the Gateway takes the route) and
// ResolvedRefs (every backend exists and may be referenced).
var reported = []gwv1.RouteConditionType{gwv1.RouteConditionAccepted, gwv1.RouteConditionResolvedRefs}

// confirm waits until, on every written route, each configured parent has
// Accepted and ResolvedRefs True for the written generation or a later one.
// It returns false, and no error, when the status timeout passes first; an
// error wrapping ErrRejected as soon as one of those conditions is False.
func (r *Router) confirm(ctx context.Context, cfg Config, written []*gwv1.HTTPRoute) (bool, error) {
	routes := r.client.GatewayV1().HTTPRoutes(cfg.RouteNamespace)
	watches := make([]kube.Watcher, len(written))
	for i, w := range written {
		watches[i] = kube.Named(routes.Watch, w.Name)
	}
	err := kube.WaitWatched(ctx, r.clock, statusPoll, cfg.StatusTimeout.D(), watches, func(ctx context.Context) (bool, error) {
		done := true
		for _, w := range written {
			cur, err := routes.Get(ctx, w.Name, metav1.GetOptions{})
			if err != nil {
				return false, kube.Transient(fmt.Errorf("read the status of httproute %s/%s: %w", w.Namespace, w.Name, err))
			}
			ok, err := Verdict(cur, w.Generation, cfg.ParentRefs)
			if err != nil {
				return false, err
			}
			done = done && ok
		}
		return done, nil
	})
	if errors.Is(err, clock.ErrTimeout) {
		return false, nil
	}
	return err == nil, err
}

// Verdict reads what the Gateway controllers report on route for
// generation gen or later: true when every parent has Accepted and
// ResolvedRefs True, an error wrapping ErrRejected naming the route, the
// parent, the condition, its reason and message when one is False, and
// false otherwise (not reported yet, or only on an older generation).
func Verdict(route *gwv1.HTTPRoute, gen int64, parents []ParentRef) (bool, error) {
	done := true
	for _, p := range parents {
		for _, want := range reported {
			cond, controller := condition(route, p, want, gen)
			switch {
			case cond == nil || cond.Status == metav1.ConditionUnknown:
				done = false
			case cond.Status == metav1.ConditionFalse:
				return false, fmt.Errorf("%w %s: httproute %s/%s on Gateway %s: %s is False, reason %s: %s",
					ErrRejected, controller, route.Namespace, route.Name, p, want, cond.Reason, strings.TrimSpace(cond.Message))
			}
		}
	}
	return done, nil
}

// condition finds condition t of parent p on route, reported for
// generation gen or later, and the controller that reported it. A False
// from any controller wins over a True from another.
func condition(route *gwv1.HTTPRoute, p ParentRef, t gwv1.RouteConditionType, gen int64) (*metav1.Condition, string) {
	var found *metav1.Condition
	controller := ""
	for i := range route.Status.Parents {
		st := &route.Status.Parents[i]
		if !sameParent(st.ParentRef, p, route.Namespace) {
			continue
		}
		for j := range st.Conditions {
			c := &st.Conditions[j]
			if c.Type != string(t) || c.ObservedGeneration < gen {
				continue
			}
			if found == nil || c.Status == metav1.ConditionFalse {
				found, controller = c, string(st.ControllerName)
			}
		}
	}
	return found, controller
}

// sameParent reports whether a status entry's parentRef is p; a reference
// without a namespace is in the route's namespace.
func sameParent(ref gwv1.ParentReference, p ParentRef, routeNS string) bool {
	ns := routeNS
	if ref.Namespace != nil {
		ns = string(*ref.Namespace)
	}
	section := ""
	if ref.SectionName != nil {
		section = string(*ref.SectionName)
	}
	if ref.Kind != nil && *ref.Kind != "Gateway" {
		return false
	}
	return string(ref.Name) == p.Name && ns == p.Namespace && section == p.SectionName
}
