package standby

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/validation"
)

// DefaultKinds returns the kinds a Selection copies when it names none:
// the stateless workload and what it needs, in the order they are applied
// (what a Deployment references before the Deployment).
func DefaultKinds() []string {
	return []string{
		"ServiceAccount", "ConfigMap", "Secret", "Service", "Deployment",
		"HorizontalPodAutoscaler", "PodDisruptionBudget", "Ingress",
	}
}

// Selection says what to copy.
type Selection struct {
	// Namespaces to copy, at least one. Each is created in the target (from
	// the source's Namespace object) before anything is applied into it.
	Namespaces []string
	// Kinds to copy, in the order to apply them: "Deployment",
	// "deployments" or "Deployment.apps" all work. Empty means
	// DefaultKinds. A cluster-scoped kind is copied once, not per
	// namespace.
	Kinds []string
	// LabelSelector, when set, limits the objects (not the namespaces) to
	// those it selects, e.g. "app.kubernetes.io/part-of=shop".
	LabelSelector string
	// Names, when set, limits the objects (not the namespaces) to these:
	// "Kind/name" (the kind case-insensitive, e.g. "deployment/web") or a
	// bare "name" for any kind.
	Names []string
}

// withDefaults returns s with DefaultKinds filled in, after checking it.
// All input errors surface here, before anything is read or written.
func (s Selection) withDefaults() (Selection, error) {
	if len(s.Namespaces) == 0 {
		return s, errors.New("selection: no namespaces; name at least one")
	}
	for _, ns := range s.Namespaces {
		if errs := validation.IsDNS1123Label(ns); len(errs) > 0 {
			return s, fmt.Errorf("selection: namespace %q: %s", ns, strings.Join(errs, "; "))
		}
	}
	s.Namespaces = dedupe(s.Namespaces)
	if len(s.Kinds) == 0 {
		s.Kinds = DefaultKinds()
	}
	if _, err := labels.Parse(s.LabelSelector); err != nil {
		return s, fmt.Errorf("selection: label selector %q: %w", s.LabelSelector, err)
	}
	for _, n := range s.Names {
		kind, name, hasKind := strings.Cut(n, "/")
		if name == "" || (hasKind && (kind == "" || strings.Contains(name, "/"))) {
			return s, fmt.Errorf("selection: name %q: want Kind/name or name", n)
		}
	}
	return s, nil
}

// matchName reports whether the Names filter keeps an object.
func (s Selection) matchName(kind, name string) bool {
	if len(s.Names) == 0 {
		return true
	}
	for _, n := range s.Names {
		k, nm, hasKind := strings.Cut(n, "/")
		if !hasKind && n == name || hasKind && nm == name && strings.EqualFold(k, kind) {
			return true
		}
	}
	return false
}

// dedupe returns xs without repeats, in first-seen order.
func dedupe(xs []string) []string {
	out := make([]string, 0, len(xs))
	for _, x := range xs {
		if !slices.Contains(out, x) {
			out = append(out, x)
		}
	}
	return out
}

// skipReason says why obj is never copied, or "" to copy it: controllers
// and the cluster itself create these in the target too.
func skipReason(obj *unstructured.Unstructured) string {
	if obj.GetDeletionTimestamp() != nil {
		return "being deleted"
	}
	if owner := metav1.GetControllerOfNoCopy(obj); owner != nil {
		return "owned by " + owner.Kind + " " + owner.Name
	}
	gk := obj.GroupVersionKind().GroupKind()
	if gk.Group != "" {
		return ""
	}
	switch {
	case gk.Kind == "ServiceAccount" && obj.GetName() == "default":
		return "created by the cluster in every namespace"
	case gk.Kind == "ConfigMap" && obj.GetName() == "kube-root-ca.crt":
		return "created by the cluster in every namespace"
	case gk.Kind == "Service" && obj.GetNamespace() == metav1.NamespaceDefault && obj.GetName() == "kubernetes":
		return "the cluster's own API server Service"
	case gk.Kind == "Secret" && secretType(obj) == string(corev1.SecretTypeServiceAccountToken):
		return "service-account token; the target cluster issues its own"
	}
	return ""
}

// secretType returns a Secret's type.
func secretType(obj *unstructured.Unstructured) string {
	t, _, _ := unstructured.NestedString(obj.Object, "type")
	return t
}
