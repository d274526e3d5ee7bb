// Package selector is the service-scope router: it moves all traffic at once
// by patching the color label in a Service's selector, which Kubernetes
// applies atomically to the Service's EndpointSlices.
package selector

import (
	"context"
	"encoding/json"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"

	"github.com/bluegreen/bluegreen/internal/kube"
	"github.com/bluegreen/bluegreen/internal/traffic"
)

// Name is the router's registered name.
const Name = "service-selector"

// LabelOption is the Target option naming the color label key.
const LabelOption = "colorLabel"

func init() {
	traffic.Register(traffic.Plugin{
		Name: Name,
		New: func(d traffic.Deps) (traffic.Router, error) {
			if d.Kube == nil {
				return nil, fmt.Errorf("no Kubernetes client: set traffic.Deps.Kube")
			}
			return &Router{Client: d.Kube}, nil
		},
		Service:        serviceTargets,
		ServiceDefault: true,
	})
}

// serviceTargets points both targets at their Service; the color label
// is the selector key a switch patches.
func serviceTargets(s traffic.ServiceSwitch) (active, preview traffic.Target) {
	opts := map[string]string{LabelOption: s.ColorLabel}
	return traffic.Target{Namespace: s.Namespace, Name: s.Active, Options: opts},
		traffic.Target{Namespace: s.Namespace, Name: s.Preview, Options: opts}
}

// Router patches Service selectors.
type Router struct {
	Client kubernetes.Interface
}

func label(t traffic.Target) string {
	if l := t.Options[LabelOption]; l != "" {
		return l
	}
	return "track"
}

// Observe implements traffic.Router: the selected color gets 100.
func (r *Router) Observe(ctx context.Context, t traffic.Target) (traffic.Split, error) {
	svc, err := r.Client.CoreV1().Services(t.Namespace).Get(ctx, t.Name, metav1.GetOptions{})
	if err != nil {
		return nil, fmt.Errorf("observe service %s/%s: %w", t.Namespace, t.Name, err)
	}
	c := svc.Spec.Selector[label(t)]
	if c == "" {
		return nil, fmt.Errorf("service %s/%s: selector has no %s label", t.Namespace, t.Name, label(t))
	}
	return traffic.Split{c: 100}, nil
}

// Shift implements traffic.Router. Only all-or-nothing splits exist for a
// selector; the patch is a single merge patch, applied atomically.
func (r *Router) Shift(ctx context.Context, t traffic.Target, s traffic.Split) error {
	to := ""
	for c, w := range s {
		switch w {
		case 100:
			to = c
		case 0:
		default:
			return fmt.Errorf("service %s/%s: a selector sends all traffic to one color, cannot shift to %s", t.Namespace, t.Name, s)
		}
	}
	if to == "" {
		return fmt.Errorf("service %s/%s: split %s sends traffic nowhere", t.Namespace, t.Name, s)
	}
	patch, _ := json.Marshal(map[string]any{"spec": map[string]any{"selector": map[string]string{label(t): to}}})
	_, err := r.Client.CoreV1().Services(t.Namespace).Patch(ctx, t.Name, types.MergePatchType, patch, metav1.PatchOptions{})
	if err != nil {
		return kube.Transient(fmt.Errorf("shift service %s/%s to %s: %w", t.Namespace, t.Name, to, err))
	}
	return nil
}
