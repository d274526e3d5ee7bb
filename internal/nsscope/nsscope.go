// Package nsscope runs the namespace scope: a product's services, the same
// Deployments in two namespaces (one per color), behind gateways that send
// the production host to one namespace and the preprod host to the other.
// A release rolls the idle namespace out with the service scope's actions
// and switches every gateway in one step, through a traffic router.
package nsscope

import (
	"context"
	"errors"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"github.com/bluegreen/bluegreen/internal/clock"
	"github.com/bluegreen/bluegreen/internal/engine"
	"github.com/bluegreen/bluegreen/internal/gitops"
	"github.com/bluegreen/bluegreen/internal/plan"
	"github.com/bluegreen/bluegreen/internal/service"
	"github.com/bluegreen/bluegreen/internal/traffic"
)

// Deps is what the namespace scope's actions use.
type Deps struct {
	// Service runs the steps the namespace scope shares with the service
	// scope (set image, scale, wait, checks, approval, watch, scale-down)
	// on each service of the idle namespace.
	Service service.Deps
	// Router moves the product's hosts between the namespaces.
	Router traffic.Router
	Clock  clock.Clock
}

// Actions are the namespace scope's actions, by step kind.
func Actions(d Deps) map[string]engine.Action {
	acts := service.Actions(d.Service)
	delete(acts, plan.KindSwitch) // the gateways switch, not a Service
	// Checks go through the gateways, with the product's hosts.
	acts[plan.KindChecks] = d.checks()
	acts[plan.KindWatch] = d.watch()
	acts[plan.KindGatewaySwitch] = d.gatewaySwitch()
	acts[plan.KindCopyToNamespace] = d.copyToNamespace()
	acts[plan.KindGatewayAdopt] = d.gatewayAdopt()
	return acts
}

// copyToNamespace creates a service's Deployment in the idle namespace as
// it runs in the active one, at 0 replicas: a release scales it up.
func (d Deps) copyToNamespace() engine.Action {
	return engine.Action{
		Do: func(ctx context.Context, x engine.Exec) (any, error) {
			var p plan.CopyToNamespaceParams
			if err := x.Step.DecodeParams(&p); err != nil {
				return nil, err
			}
			kube := d.Service.Client
			orig, err := kube.AppsV1().Deployments(p.From).Get(ctx, p.Name, metav1.GetOptions{})
			if err != nil {
				return nil, fmt.Errorf("get deployment %s/%s: %w", p.From, p.Name, err)
			}
			cp := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: p.Name, Namespace: p.To,
				Labels: gitops.Untracked(orig.Labels), Annotations: map[string]string{service.CreatedByAnnotation: x.Run.ID}}, Spec: *orig.Spec.DeepCopy()}
			cp.Spec.Replicas = ptr.To(int32(0))
			if _, err := kube.AppsV1().Deployments(p.To).Create(ctx, cp, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
				return nil, fmt.Errorf("create deployment %s/%s: %w", p.To, p.Name, err)
			}
			return nil, nil
		},
		Undo: func(ctx context.Context, x engine.Exec) error {
			var p plan.CopyToNamespaceParams
			if err := x.Step.DecodeParams(&p); err != nil {
				return err
			}
			return service.DeleteIfCreatedBy(ctx, d.Service.Client.AppsV1().Deployments(p.To), "deployment", p.To, p.Name, x.Run.ID)
		},
	}
}

// gatewayAdopt writes bluegreen's file on every gateway with production
// where it is now (To). Nothing to undo that a rollback should do: the
// file routes as the gateways did before.
func (d Deps) gatewayAdopt() engine.Action {
	return engine.Action{
		Do: func(ctx context.Context, x engine.Exec) (any, error) {
			var p plan.GatewaySwitchParams
			if err := x.Step.DecodeParams(&p); err != nil {
				return nil, err
			}
			return nil, d.Router.Shift(ctx, p.Target, traffic.All(string(p.To), string(p.From)))
		},
		Undo: func(context.Context, engine.Exec) error {
			return engine.Keep("the gateways keep bluegreen's file: it routes production where it was")
		},
	}
}

func (d Deps) clock() clock.Clock {
	if d.Clock == nil {
		return clock.Real{}
	}
	return d.Clock
}

// gatewaySwitch sends production to To and the preprod host to From on
// every gateway, or on none (the router's contract); the undo sends them
// back the same way.
func (d Deps) gatewaySwitch() engine.Action {
	return engine.Action{
		Capture: func(ctx context.Context, x engine.Exec) (any, error) {
			var p plan.GatewaySwitchParams
			if err := x.Step.DecodeParams(&p); err != nil {
				return nil, err
			}
			split, err := d.Router.Observe(ctx, p.Target)
			if err != nil {
				return nil, fmt.Errorf("read where the gateways send %s: %w", p.Product, err)
			}
			return split, nil
		},
		Do: func(ctx context.Context, x engine.Exec) (any, error) {
			var p plan.GatewaySwitchParams
			if err := x.Step.DecodeParams(&p); err != nil {
				return nil, err
			}
			if err := d.Router.Shift(ctx, p.Target, traffic.All(string(p.To), string(p.From))); err != nil {
				return nil, err
			}
			return service.SwitchOutput{SwitchedAt: d.clock().Now().UTC()}, nil
		},
		Undo: func(ctx context.Context, x engine.Exec) error {
			var p plan.GatewaySwitchParams
			if err := x.Step.DecodeParams(&p); err != nil {
				return err
			}
			back := traffic.All(string(p.From), string(p.To))
			// A switch that failed put every gateway back itself: there is
			// nothing to undo, and rewriting the files could fail for the
			// reason the switch did (a config nginx rejects).
			if now, err := d.Router.Observe(ctx, p.Target); err == nil && now.String() == back.String() {
				return nil
			}
			return d.Router.Shift(ctx, p.Target, back)
		},
	}
}

// Observe reads what a release is planned from: the color the gateways
// send production to, and each service's Deployment in both namespaces.
func Observe(ctx context.Context, kube kubernetes.Interface, rel plan.NamespaceRelease, router traffic.Router, target traffic.Target) (plan.NamespaceObserved, error) {
	split, err := router.Observe(ctx, target)
	if errors.Is(err, traffic.ErrNotAdopted) {
		return plan.NamespaceObserved{}, fmt.Errorf("read where the gateways send %s: %w: adopt the product first with `bluegreen namespace init`", rel.Product, err)
	}
	if err != nil {
		return plan.NamespaceObserved{}, fmt.Errorf("read where the gateways send %s: %w", rel.Product, err)
	}
	obs, err := ObserveDeployments(ctx, kube, rel)
	if err != nil {
		return obs, err
	}
	for c, w := range split {
		if w == 100 {
			obs.Active = plan.Color(c)
		}
	}
	if !obs.Active.Valid() {
		return obs, fmt.Errorf("%w: the gateways send %s's production to %s, not to one color: finish or roll back the run that split it", plan.ErrInvalid, rel.Product, split)
	}
	return obs, nil
}

// ObserveDeployments reads each service's Deployment in both namespaces,
// naming a namespace that does not exist.
func ObserveDeployments(ctx context.Context, kube kubernetes.Interface, rel plan.NamespaceRelease) (plan.NamespaceObserved, error) {
	obs := plan.NamespaceObserved{Deployments: map[plan.Color]map[string]*plan.DeploymentInfo{}}
	for _, c := range []plan.Color{plan.Blue, plan.Green} {
		ns := rel.Namespaces[c]
		if _, err := kube.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{}); err != nil {
			if apierrors.IsNotFound(err) {
				return obs, fmt.Errorf("%w: namespace %s (%s) does not exist: create it with the product's services, or fix namespaces.%s", plan.ErrInvalid, ns, c, c)
			}
			return obs, fmt.Errorf("get namespace %s: %w", ns, err)
		}
		obs.Deployments[c] = map[string]*plan.DeploymentInfo{}
		for _, s := range rel.Services {
			dep, err := kube.AppsV1().Deployments(ns).Get(ctx, s.Name, metav1.GetOptions{})
			if apierrors.IsNotFound(err) {
				continue
			}
			if err != nil {
				return obs, fmt.Errorf("get deployment %s/%s: %w", ns, s.Name, err)
			}
			info := &plan.DeploymentInfo{Name: dep.Name, Replicas: ptr.Deref(dep.Spec.Replicas, 1), ReadyReplicas: dep.Status.ReadyReplicas}
			for _, ct := range dep.Spec.Template.Spec.Containers {
				info.Containers = append(info.Containers, plan.ContainerInfo{Name: ct.Name, Image: ct.Image})
			}
			obs.Deployments[c][s.Name] = info
		}
	}
	return obs, nil
}
