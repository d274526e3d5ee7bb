//go:build testbed

package preflight

import (
	"context"
	"fmt"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"

	"github.com/bluegreen/bluegreen/test/testbed"
)

// This file holds the Kubernetes fixtures of the tests that run against
// test-bed clusters.

const waitTimeout = 60 * time.Second

// newDeployment returns a one-replica Deployment whose only container has
// the given name and image.
func newDeployment(ns, name string, labels map[string]string, container, image string) *appsv1.Deployment {
	podLabels := map[string]string{"app": name}
	for k, v := range labels {
		podLabels[k] = v
	}
	one := int32(1)
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: labels},
		Spec: appsv1.DeploymentSpec{
			Replicas: &one,
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": name}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: podLabels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: container, Image: image}}},
			},
		},
	}
}

// deployment creates newDeployment's Deployment, and its namespace if
// needed, and deletes it when the test ends.
func deployment(t *testing.T, kube kubernetes.Interface, ns, name string, labels map[string]string, container, image string) {
	t.Helper()
	ctx := t.Context()
	if _, err := kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatalf("create namespace %s: %v", ns, err)
	}
	if _, err := kube.AppsV1().Deployments(ns).Create(ctx, newDeployment(ns, name, labels, container, image), metav1.CreateOptions{}); err != nil {
		t.Fatalf("create deployment %s/%s: %v", ns, name, err)
	}
	t.Cleanup(func() { deleteDeployment(t, kube, ns, name) })
}

func deleteDeployment(t *testing.T, kube kubernetes.Interface, ns, name string) {
	t.Helper()
	err := kube.AppsV1().Deployments(ns).Delete(context.Background(), name, metav1.DeleteOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		t.Errorf("delete deployment %s/%s: %v", ns, name, err)
	}
}

// waitDeployment waits until the Deployment has created its replica and
// reports it ready (wantReady) or not ready.
func waitDeployment(t *testing.T, kube kubernetes.Interface, ns, name string, wantReady bool) {
	t.Helper()
	if err := awaitDeployment(t.Context(), kube, ns, name, wantReady); err != nil {
		t.Fatal(err)
	}
}

func awaitDeployment(ctx context.Context, kube kubernetes.Interface, ns, name string, wantReady bool) error {
	ctx, cancel := context.WithTimeout(ctx, waitTimeout)
	defer cancel()
	err := testbed.WaitFor(ctx, func(ctx context.Context) (bool, error) {
		d, err := kube.AppsV1().Deployments(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		if wantReady {
			return d.Status.ReadyReplicas >= 1, nil
		}
		return d.Status.ObservedGeneration >= d.Generation && d.Status.Replicas == 1 && d.Status.UnavailableReplicas == 1, nil
	})
	if err != nil {
		return fmt.Errorf("deployment %s/%s ready=%v: %w", ns, name, wantReady, err)
	}
	return nil
}

// lbController runs a ready AWS Load Balancer Controller in kube-system
// until the test ends.
func lbController(t *testing.T, kube kubernetes.Interface) {
	t.Helper()
	deployment(t, kube, metav1.NamespaceSystem, lbControllerName, nil, "controller", lbControllerImage)
	waitDeployment(t, kube, metav1.NamespaceSystem, lbControllerName, true)
}

const lbControllerImage = "public.ecr.aws/eks/aws-load-balancer-controller:v2.8.1"

// removeLBController deletes the controller that lbController runs and
// brings it back when the test ends; the deletion at the end of
// lbController's test stays in charge of it.
func removeLBController(t *testing.T, kube kubernetes.Interface) {
	t.Helper()
	deleteDeployment(t, kube, metav1.NamespaceSystem, lbControllerName)
	t.Cleanup(func() {
		ctx := context.Background()
		d := newDeployment(metav1.NamespaceSystem, lbControllerName, nil, "controller", lbControllerImage)
		if _, err := kube.AppsV1().Deployments(metav1.NamespaceSystem).Create(ctx, d, metav1.CreateOptions{}); err != nil {
			t.Errorf("restore the load balancer controller: %v", err)
			return
		}
		if err := awaitDeployment(ctx, kube, metav1.NamespaceSystem, lbControllerName, true); err != nil {
			t.Errorf("restore the load balancer controller: %v", err)
		}
	})
}

// csiDriver registers the EBS CSI driver until the test ends.
func csiDriver(t *testing.T, kube kubernetes.Interface) {
	t.Helper()
	d := &storagev1.CSIDriver{ObjectMeta: metav1.ObjectMeta{Name: ebsCSIDriver}}
	if _, err := kube.StorageV1().CSIDrivers().Create(t.Context(), d, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create CSIDriver: %v", err)
	}
	t.Cleanup(func() {
		if err := kube.StorageV1().CSIDrivers().Delete(context.Background(), ebsCSIDriver, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			t.Errorf("delete CSIDriver: %v", err)
		}
	})
}

// storageClass creates a storage class until the test ends.
func storageClass(t *testing.T, kube kubernetes.Interface, name, provisioner string) {
	t.Helper()
	sc := &storagev1.StorageClass{ObjectMeta: metav1.ObjectMeta{Name: name}, Provisioner: provisioner}
	if _, err := kube.StorageV1().StorageClasses().Create(t.Context(), sc, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create storage class %s: %v", name, err)
	}
	t.Cleanup(func() {
		if err := kube.StorageV1().StorageClasses().Delete(context.Background(), name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			t.Errorf("delete storage class %s: %v", name, err)
		}
	})
}

// cordon marks the nodes of a zone unschedulable until the test ends.
func cordon(t *testing.T, kube kubernetes.Interface, zone string) {
	t.Helper()
	ctx := t.Context()
	nodes, err := kube.CoreV1().Nodes().List(ctx, metav1.ListOptions{LabelSelector: corev1.LabelTopologyZone + "=" + zone})
	if err != nil || len(nodes.Items) == 0 {
		t.Fatalf("nodes in %s: %v (%d)", zone, err, len(nodes.Items))
	}
	set := func(ctx context.Context, name string, v bool) error {
		patch := []byte(`{"spec":{"unschedulable":` + map[bool]string{true: "true", false: "false"}[v] + `}}`)
		_, err := kube.CoreV1().Nodes().Patch(ctx, name, types.MergePatchType, patch, metav1.PatchOptions{})
		return err
	}
	for _, n := range nodes.Items {
		if err := set(ctx, n.Name, true); err != nil {
			t.Fatalf("cordon %s: %v", n.Name, err)
		}
		t.Cleanup(func() {
			if err := set(context.Background(), n.Name, false); err != nil {
				t.Errorf("uncordon %s: %v", n.Name, err)
			}
		})
	}
}
