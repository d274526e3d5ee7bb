package service

import (
	"context"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"github.com/bluegreen/bluegreen/internal/engine"
	"github.com/bluegreen/bluegreen/internal/gitops"
	"github.com/bluegreen/bluegreen/internal/plan"
)

// ObserveInit reads what `init` needs. It only reads.
func ObserveInit(ctx context.Context, c kubernetes.Interface, ns string, o plan.InitOptions) (plan.InitObserved, error) {
	obs := plan.InitObserved{Namespace: ns, Colors: map[plan.Color]*plan.DeploymentInfo{}}
	var err error
	if obs.NamespaceExists, err = namespaceExists(ctx, c, ns); err != nil || !obs.NamespaceExists {
		return obs, err
	}
	if obs.Active, err = serviceInfo(ctx, c, ns, o.ActiveService); err != nil {
		return obs, err
	}
	if obs.Preview, err = serviceInfo(ctx, c, ns, o.PreviewService); err != nil {
		return obs, err
	}
	names := map[string]*plan.DeploymentInfo{}
	for _, name := range []string{o.Deployment, plan.DeploymentName(o.App, plan.Blue), plan.DeploymentName(o.App, plan.Green)} {
		d, err := c.AppsV1().Deployments(ns).Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			return obs, fmt.Errorf("get deployment %s/%s: %w", ns, name, err)
		}
		names[name] = deploymentInfo(d)
		if name == o.Deployment {
			obs.OriginalLabels = d.Spec.Template.Labels
		}
	}
	obs.Original = names[o.Deployment]
	obs.Colors[plan.Blue] = names[plan.DeploymentName(o.App, plan.Blue)]
	obs.Colors[plan.Green] = names[plan.DeploymentName(o.App, plan.Green)]
	return obs, nil
}

// InitActions returns the actions of `init`'s step kinds (it also uses
// wait-rollout from the deploy actions).
func InitActions(d Deps) map[string]engine.Action {
	d = d.withDefaults()
	a := Actions(d)
	a[plan.KindCopyDeployment] = d.copyDeployment()
	a[plan.KindCreatePreview] = d.createPreview()
	a[plan.KindNarrowActive] = d.narrowActive()
	a[plan.KindRetire] = d.scale()
	return a
}

func (d Deps) copyDeployment() engine.Action {
	return engine.Action{
		Do: func(ctx context.Context, x engine.Exec) (any, error) {
			p, err := params[plan.CopyParams](x)
			if err != nil {
				return nil, err
			}
			deps := d.Client.AppsV1().Deployments(p.Namespace)
			orig, err := deps.Get(ctx, p.From, metav1.GetOptions{})
			if err != nil {
				return nil, kubeErr(fmt.Errorf("get deployment %s/%s: %w", p.Namespace, p.From, err))
			}
			replicas := p.Replicas
			if p.FromActive {
				replicas = ptr.Deref(orig.Spec.Replicas, 1)
			}
			cp := colorCopy(orig, p, replicas, x.Run.ID)
			if _, err := deps.Create(ctx, cp, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
				return nil, kubeErr(fmt.Errorf("create deployment %s/%s: %w", p.Namespace, p.Deployment, err))
			}
			return nil, nil
		},
		Undo: func(ctx context.Context, x engine.Exec) error {
			p, err := params[plan.CopyParams](x)
			if err != nil {
				return err
			}
			return DeleteIfCreatedBy(ctx, d.Client.AppsV1().Deployments(p.Namespace), "deployment", p.Namespace, p.Deployment, x.Run.ID)
		},
	}
}

// colorCopy is the original Deployment with the color label added to its
// selector and pod labels, and nothing the API server owns.
func colorCopy(orig *appsv1.Deployment, p plan.CopyParams, replicas int32, run string) *appsv1.Deployment {
	// A GitOps tool's tracking labels stay on the original: on a copy the
	// tool would take the color for one of its own and prune it.
	labels := gitops.Untracked(orig.Labels)
	if labels == nil {
		labels = map[string]string{}
	}
	labels[p.ColorLabel] = string(p.Color)
	spec := *orig.Spec.DeepCopy()
	spec.Replicas = ptr.To(replicas)
	spec.Selector = spec.Selector.DeepCopy()
	if spec.Selector.MatchLabels == nil {
		spec.Selector.MatchLabels = map[string]string{}
	}
	spec.Selector.MatchLabels[p.ColorLabel] = string(p.Color)
	if spec.Template.Labels == nil {
		spec.Template.Labels = map[string]string{}
	}
	spec.Template.Labels[p.ColorLabel] = string(p.Color)
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: p.Deployment, Namespace: p.Namespace, Labels: labels,
			Annotations: map[string]string{CreatedByAnnotation: run, "bluegreen.io/copied-from": orig.Name}},
		Spec: spec,
	}
}

func (d Deps) createPreview() engine.Action {
	return engine.Action{
		Do: func(ctx context.Context, x engine.Exec) (any, error) {
			p, err := params[plan.ServiceParams](x)
			if err != nil {
				return nil, err
			}
			svcs := d.Client.CoreV1().Services(p.Namespace)
			src, err := svcs.Get(ctx, p.From, metav1.GetOptions{})
			if err != nil {
				return nil, kubeErr(fmt.Errorf("get service %s/%s: %w", p.Namespace, p.From, err))
			}
			preview := previewService(src, p, x.Run.ID)
			if _, err := svcs.Create(ctx, preview, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
				return nil, kubeErr(fmt.Errorf("create service %s/%s: %w", p.Namespace, p.Service, err))
			}
			return nil, nil
		},
		Undo: func(ctx context.Context, x engine.Exec) error {
			p, err := params[plan.ServiceParams](x)
			if err != nil {
				return err
			}
			return DeleteIfCreatedBy(ctx, d.Client.CoreV1().Services(p.Namespace), "service", p.Namespace, p.Service, x.Run.ID)
		},
	}
}

// previewService is the preview Service init creates from the active one:
// its ports (without node ports) and labels (without GitOps tracking), the
// planned selector, ClusterIP.
func previewService(src *corev1.Service, p plan.ServiceParams, run string) *corev1.Service {
	return &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: p.Service, Namespace: p.Namespace, Labels: gitops.Untracked(src.Labels),
			Annotations: map[string]string{CreatedByAnnotation: run}},
		Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeClusterIP, Ports: previewPorts(src.Spec.Ports), Selector: p.Selector},
	}
}

// previewPorts copies ports without node ports, which belong to the original.
func previewPorts(in []corev1.ServicePort) []corev1.ServicePort {
	out := make([]corev1.ServicePort, len(in))
	for i, p := range in {
		p.NodePort = 0
		out[i] = p
	}
	return out
}

// selectorState is the before-state of narrow-active.
type selectorState struct {
	Selector map[string]string `json:"selector"`
}

func (d Deps) narrowActive() engine.Action {
	set := func(ctx context.Context, ns, name string, sel map[string]string) error {
		svcs := d.Client.CoreV1().Services(ns)
		svc, err := svcs.Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return kubeErr(fmt.Errorf("get service %s/%s: %w", ns, name, err))
		}
		svc.Spec.Selector = sel
		if _, err := svcs.Update(ctx, svc, metav1.UpdateOptions{}); err != nil {
			return kubeErr(fmt.Errorf("set selector of service %s/%s: %w", ns, name, err))
		}
		return WaitEndpoints(ctx, d.Clock, d.Client, ns, name, sel, d.EndpointTimeout)
	}
	return engine.Action{
		Capture: func(ctx context.Context, x engine.Exec) (any, error) {
			p, err := params[plan.ServiceParams](x)
			if err != nil {
				return nil, err
			}
			svc, err := d.Client.CoreV1().Services(p.Namespace).Get(ctx, p.Service, metav1.GetOptions{})
			if err != nil {
				return nil, kubeErr(err)
			}
			return selectorState{svc.Spec.Selector}, nil
		},
		Do: func(ctx context.Context, x engine.Exec) (any, error) {
			p, err := params[plan.ServiceParams](x)
			if err != nil {
				return nil, err
			}
			return nil, set(ctx, p.Namespace, p.Service, p.Selector)
		},
		Undo: func(ctx context.Context, x engine.Exec) error {
			p, err := params[plan.ServiceParams](x)
			if err != nil {
				return err
			}
			var before selectorState
			if err := x.Step.DecodeBefore(&before); err != nil {
				return err
			}
			return set(ctx, p.Namespace, p.Service, before.Selector)
		},
	}
}
