package bench

import (
	"context"
	"fmt"
	"strings"
	"time"

	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"
)

// switchTimeout bounds the wait for EndpointSlices to follow one switch.
const switchTimeout = time.Minute

// sliceSet is a Service's EndpointSlices by name.
type sliceSet map[string]*discoveryv1.EndpointSlice

func listSlices(ctx context.Context, c kubernetes.Interface, ns, svc string) (*discoveryv1.EndpointSliceList, error) {
	return c.DiscoveryV1().EndpointSlices(ns).List(ctx, metav1.ListOptions{LabelSelector: discoveryv1.LabelServiceName + "=" + svc})
}

func setOf(list *discoveryv1.EndpointSliceList) sliceSet {
	set := sliceSet{}
	for i := range list.Items {
		set[list.Items[i].Name] = &list.Items[i]
	}
	return set
}

// routes counts the ready endpoints and reports whether every endpoint,
// ready or not, is a pod whose name starts with prefix.
func routes(set sliceSet, prefix string) (ready int, only bool) {
	for _, s := range set {
		for _, ep := range s.Endpoints {
			if ep.TargetRef == nil || !strings.HasPrefix(ep.TargetRef.Name, prefix) {
				return ready, false
			}
			if ptr.Deref(ep.Conditions.Ready, false) {
				ready++
			}
		}
	}
	return ready, true
}

// routesOnly is the moment traffic has moved: at least one ready endpoint,
// and only pods whose name starts with prefix.
func routesOnly(set sliceSet, prefix string) bool {
	ready, only := routes(set, prefix)
	return only && ready > 0
}

func describe(set sliceSet) string {
	var eps []string
	for _, s := range set {
		for _, ep := range s.Endpoints {
			name := "?"
			if ep.TargetRef != nil {
				name = ep.TargetRef.Name
			}
			eps = append(eps, fmt.Sprintf("%s(ready=%t)", name, ptr.Deref(ep.Conditions.Ready, false)))
		}
	}
	return "[" + strings.Join(eps, " ") + "]"
}

// moved is when a watched Service's EndpointSlices listed only the new
// color, or why that was not seen.
type moved struct {
	at  time.Time
	err error
}

// watchSwitch checks that the EndpointSlices of svc list only pods named
// from, then watches them and returns once the watch is established. The
// channel gets the moment an event made them list only pods named to: the
// event's arrival, stamped before anything else is done with it.
func watchSwitch(ctx context.Context, c kubernetes.Interface, ns, svc, from, to string) (<-chan moved, error) {
	list, err := listSlices(ctx, c, ns, svc)
	if err != nil {
		return nil, err
	}
	set := setOf(list)
	if !routesOnly(set, from) {
		return nil, fmt.Errorf("before the switch, service %s/%s should route only to %s*: %s", ns, svc, from, describe(set))
	}
	open := func(rv string) (watch.Interface, error) {
		return c.DiscoveryV1().EndpointSlices(ns).Watch(ctx, metav1.ListOptions{
			LabelSelector: discoveryv1.LabelServiceName + "=" + svc, ResourceVersion: rv})
	}
	wi, err := open(list.ResourceVersion)
	if err != nil {
		return nil, err
	}
	out := make(chan moved, 1)
	go func() {
		ctx, cancel := context.WithTimeout(ctx, switchTimeout)
		defer cancel()
		defer func() { wi.Stop() }()
		for {
			select {
			case <-ctx.Done():
				out <- moved{err: fmt.Errorf("service %s/%s: endpoints did not move to %s* within %s; last seen %s", ns, svc, to, switchTimeout, describe(set))}
				return
			case ev, ok := <-wi.ResultChan():
				now := time.Now()
				if !ok {
					// The server closed the watch: list again, and watch on.
					wi.Stop()
					list, err := listSlices(ctx, c, ns, svc)
					if err == nil {
						now, set = time.Now(), setOf(list)
						wi, err = open(list.ResourceVersion)
					}
					if err != nil {
						out <- moved{err: fmt.Errorf("re-watch endpointslices of %s/%s: %w", ns, svc, err)}
						return
					}
				} else {
					switch ev.Type {
					case watch.Added, watch.Modified:
						if s, ok := ev.Object.(*discoveryv1.EndpointSlice); ok {
							set[s.Name] = s
						}
					case watch.Deleted:
						if s, ok := ev.Object.(*discoveryv1.EndpointSlice); ok {
							delete(set, s.Name)
						}
					case watch.Error:
						out <- moved{err: fmt.Errorf("watch endpointslices of %s/%s: %v", ns, svc, ev.Object)}
						return
					}
				}
				if routesOnly(set, to) {
					out <- moved{at: now}
					return
				}
			}
		}
	}()
	return out, nil
}
