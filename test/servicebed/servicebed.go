// Package servicebed installs the service scope's sample app on a test-bed
// cluster, for the end-to-end tests, the benchmark and the demo alike: the
// way package migrationbed serves the cluster scope. An app is Deployments
// of pods labelled app=<name> and track=<color>, and Services selecting
// them; pods of images containing "unready" never become Ready (see
// package testbed).
package servicebed

import (
	"context"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"github.com/bluegreen/bluegreen/test/testbed"
)

// ColorLabel is the pod label that holds the color.
const ColorLabel = "track"

// Deployment is a Deployment of replicas pods of image with labels.
func Deployment(ns, name string, replicas int32, labels map[string]string, image string) *appsv1.Deployment {
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: labels},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To(replicas),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					Containers: []corev1.Container{{Name: "app", Image: image, Ports: []corev1.ContainerPort{{ContainerPort: 8080}}}},
					// kwok's fake nodes are tainted; a real app would not need this.
					Tolerations: []corev1.Toleration{{Key: "kwok.x-k8s.io/node", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}},
				},
			},
		},
	}
}

// Service is a Service on port 80 selecting selector's pods on 8080.
func Service(ns, name string, selector map[string]string) *corev1.Service {
	return &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec:       corev1.ServiceSpec{Selector: selector, Ports: []corev1.ServicePort{{Port: 80, TargetPort: intstr.FromInt32(8080)}}},
	}
}

// App is one sample app in the blue/green layout.
type App struct {
	Namespace, Name string
	// Image runs on both colors.
	Image string
	// Blue and Green are each color's replicas; blue is live.
	Blue, Green int32
}

// InstallBlueGreen creates app's Deployments <name>-blue and <name>-green,
// the active Service <name> on blue and the preview <name>-preview on
// green. It does not wait.
func InstallBlueGreen(ctx context.Context, c kubernetes.Interface, a App) error {
	for color, n := range map[string]int32{"blue": a.Blue, "green": a.Green} {
		labels := map[string]string{"app": a.Name, ColorLabel: color}
		if _, err := c.AppsV1().Deployments(a.Namespace).Create(ctx, Deployment(a.Namespace, a.Name+"-"+color, n, labels, a.Image), metav1.CreateOptions{}); err != nil {
			return fmt.Errorf("create deployment %s-%s: %w", a.Name, color, err)
		}
	}
	for name, color := range map[string]string{a.Name: "blue", a.Name + "-preview": "green"} {
		if _, err := c.CoreV1().Services(a.Namespace).Create(ctx, Service(a.Namespace, name, map[string]string{"app": a.Name, ColorLabel: color}), metav1.CreateOptions{}); err != nil {
			return fmt.Errorf("create service %s: %w", name, err)
		}
	}
	return nil
}

// InstallPlain creates app as most apps start: one Deployment <name> of
// replicas pods of image behind one Service <name>, which `bluegreen init`
// turns into the blue/green layout. Objects that exist are kept. It waits
// until the pods are Ready or ctx ends.
func InstallPlain(ctx context.Context, c kubernetes.Interface, ns, name, image string, replicas int32) error {
	labels := map[string]string{"app": name}
	if _, err := c.AppsV1().Deployments(ns).Create(ctx, Deployment(ns, name, replicas, labels, image), metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create deployment %s: %w", name, err)
	}
	if _, err := c.CoreV1().Services(ns).Create(ctx, Service(ns, name, labels), metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create service %s: %w", name, err)
	}
	return testbed.WaitFor(ctx, func(ctx context.Context) (bool, error) {
		d, err := c.AppsV1().Deployments(ns).Get(ctx, name, metav1.GetOptions{})
		return err == nil && d.Status.ReadyReplicas == replicas, nil
	})
}
