package kube

import (
	"context"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// kinds maps the lower-case object prefixes used in plans to API kinds.
var kinds = map[string]struct{ kind, apiVersion string }{
	"deployment":              {"Deployment", "apps/v1"},
	"service":                 {"Service", "v1"},
	"horizontalpodautoscaler": {"HorizontalPodAutoscaler", "autoscaling/v2"},
	"statefulset":             {"StatefulSet", "apps/v1"},
}

// Event records a Kubernetes Event on object ("deployment/shop-green") so
// that `kubectl describe` and `kubectl get events` show what bluegreen did.
// Reason is CamelCase (e.g. "BlueGreenSwitch"); eventType is Normal or Warning.
func Event(ctx context.Context, c kubernetes.Interface, ns, object, reason, message, eventType string) error {
	prefix, name, ok := strings.Cut(object, "/")
	k, known := kinds[prefix]
	if !ok || !known {
		return fmt.Errorf("event on %q: unknown object kind", object)
	}
	now := metav1.Now()
	ev := &corev1.Event{
		ObjectMeta: metav1.ObjectMeta{GenerateName: name + ".", Namespace: ns},
		InvolvedObject: corev1.ObjectReference{
			Kind: k.kind, APIVersion: k.apiVersion, Name: name, Namespace: ns,
		},
		Reason: reason, Message: message, Type: eventType,
		Source:         corev1.EventSource{Component: "bluegreen"},
		FirstTimestamp: now, LastTimestamp: now, Count: 1,
		ReportingController: "bluegreen.io/cli", ReportingInstance: Self("").Host,
	}
	if _, err := c.CoreV1().Events(ns).Create(ctx, ev, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("record event on %s/%s: %w", ns, object, err)
	}
	return nil
}
