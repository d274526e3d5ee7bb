package service

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"github.com/bluegreen/bluegreen/internal/journal"
	"github.com/bluegreen/bluegreen/internal/plan"
)

// InitManifests returns, for the steps `init` planned, the objects of the
// blue/green layout as a user would commit them to a GitOps repository
// instead of letting init apply them: the color Deployments, the preview
// Service and the active Service narrowed to blue. They are built by the
// same code as init's, without what the API server owns or what only a
// run needs. It reads the originals and writes nothing.
func InitManifests(ctx context.Context, c kubernetes.Interface, steps []journal.Step) ([]*unstructured.Unstructured, error) {
	var out []*unstructured.Unstructured
	add := func(kind string, obj any) error {
		m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
		if err != nil {
			return fmt.Errorf("encode %s: %w", kind, err)
		}
		u := &unstructured.Unstructured{Object: m}
		delete(u.Object, "status")
		unstructured.RemoveNestedField(u.Object, "metadata", "creationTimestamp")
		unstructured.RemoveNestedField(u.Object, "spec", "template", "metadata", "creationTimestamp")
		ann := u.GetAnnotations()
		delete(ann, CreatedByAnnotation)
		delete(ann, "kubectl.kubernetes.io/last-applied-configuration")
		if len(ann) == 0 {
			ann = nil
		}
		u.SetAnnotations(ann)
		u.SetAPIVersion(map[string]string{"Deployment": "apps/v1", "Service": "v1"}[kind])
		u.SetKind(kind)
		out = append(out, u)
		return nil
	}
	for i := range steps {
		st := &steps[i]
		switch st.Kind {
		case plan.KindCopyDeployment:
			var p plan.CopyParams
			if err := st.DecodeParams(&p); err != nil {
				return nil, err
			}
			orig, err := c.AppsV1().Deployments(p.Namespace).Get(ctx, p.From, metav1.GetOptions{})
			if err != nil {
				return nil, fmt.Errorf("get deployment %s/%s: %w", p.Namespace, p.From, err)
			}
			replicas := p.Replicas
			if p.FromActive {
				replicas = ptr.Deref(orig.Spec.Replicas, 1)
			}
			if err := add("Deployment", colorCopy(orig, p, replicas, "")); err != nil {
				return nil, err
			}
		case plan.KindCreatePreview, plan.KindNarrowActive:
			var p plan.ServiceParams
			if err := st.DecodeParams(&p); err != nil {
				return nil, err
			}
			name := p.Service
			if st.Kind == plan.KindCreatePreview {
				name = p.From
			}
			src, err := c.CoreV1().Services(p.Namespace).Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				return nil, fmt.Errorf("get service %s/%s: %w", p.Namespace, name, err)
			}
			svc := previewService(src, p, "")
			if st.Kind == plan.KindNarrowActive {
				svc = activeNarrowed(src, p.Selector)
			}
			if err := add("Service", svc); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// activeNarrowed is the active Service with the new selector, as written
// in a repository: no cluster IPs, nothing the API server set.
func activeNarrowed(src *corev1.Service, sel map[string]string) *corev1.Service {
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: src.Name, Namespace: src.Namespace, Labels: src.Labels,
		Annotations: src.Annotations}, Spec: *src.Spec.DeepCopy()}
	svc.Spec.Selector = sel
	svc.Spec.ClusterIP, svc.Spec.ClusterIPs = "", nil
	return svc
}
