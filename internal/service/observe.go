package service

import (
	"context"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"github.com/bluegreen/bluegreen/internal/plan"
)

// Observe reads what the planner needs about app: namespace, Services,
// both colors' Deployments and their autoscalers. It only reads.
func Observe(ctx context.Context, c kubernetes.Interface, ns string, rel plan.ServiceRelease) (plan.ServiceObserved, error) {
	exists, err := namespaceExists(ctx, c, ns)
	if err != nil || !exists {
		return plan.ServiceObserved{Namespace: ns}, err
	}
	return ObserveIn(ctx, c, ns, rel)
}

// ObserveIn is Observe for a caller that knows namespace ns exists (a
// controller reconciling an object in it): the namespace is not read.
func ObserveIn(ctx context.Context, c kubernetes.Interface, ns string, rel plan.ServiceRelease) (plan.ServiceObserved, error) {
	obs := plan.ServiceObserved{Namespace: ns, NamespaceExists: true, Deployments: map[plan.Color]*plan.DeploymentInfo{}}
	var err error
	if obs.Active, err = serviceInfo(ctx, c, ns, rel.ActiveService); err != nil {
		return obs, err
	}
	if obs.Preview, err = serviceInfo(ctx, c, ns, rel.PreviewService); err != nil {
		return obs, err
	}
	hpas, err := c.AutoscalingV2().HorizontalPodAutoscalers(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return obs, fmt.Errorf("list autoscalers in %s: %w", ns, err)
	}
	for _, color := range []plan.Color{plan.Blue, plan.Green} {
		name := plan.DeploymentName(rel.App, color)
		d, err := c.AppsV1().Deployments(ns).Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			return obs, fmt.Errorf("get deployment %s/%s: %w", ns, name, err)
		}
		info := deploymentInfo(d)
		for _, h := range hpas.Items {
			if h.Spec.ScaleTargetRef.Kind == "Deployment" && h.Spec.ScaleTargetRef.Name == name {
				info.HPA = &plan.HPAInfo{Name: h.Name, MinReplicas: ptr.Deref(h.Spec.MinReplicas, 1), MaxReplicas: h.Spec.MaxReplicas}
			}
		}
		obs.Deployments[color] = info
	}
	return obs, nil
}

func namespaceExists(ctx context.Context, c kubernetes.Interface, ns string) (bool, error) {
	_, err := c.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("get namespace %s: %w", ns, err)
	}
	return true, nil
}

func serviceInfo(ctx context.Context, c kubernetes.Interface, ns, name string) (*plan.ServiceInfo, error) {
	svc, err := c.CoreV1().Services(ns).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("get service %s/%s: %w", ns, name, err)
	}
	return &plan.ServiceInfo{Name: svc.Name, Selector: svc.Spec.Selector}, nil
}

func deploymentInfo(d *appsv1.Deployment) *plan.DeploymentInfo {
	info := &plan.DeploymentInfo{Name: d.Name, Replicas: ptr.Deref(d.Spec.Replicas, 1), ReadyReplicas: d.Status.ReadyReplicas}
	for _, ct := range d.Spec.Template.Spec.Containers {
		info.Containers = append(info.Containers, plan.ContainerInfo{Name: ct.Name, Image: ct.Image})
	}
	return info
}
