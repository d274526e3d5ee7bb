package standby

import (
	"errors"
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Annotations and labels that only mean something in the cluster that set
// them.
const (
	lastAppliedAnnotation = "kubectl.kubernetes.io/last-applied-configuration"
	revisionAnnotation    = "deployment.kubernetes.io/revision"
	jobUIDLabel           = "batch.kubernetes.io/controller-uid"
	legacyJobUIDLabel     = "controller-uid"
)

// volumeAnnotationPrefixes mark PVC annotations written by the volume
// binder and provisioner of the source cluster (bind-completed,
// bound-by-controller, storage-provisioner, selected-node, ...).
var volumeAnnotationPrefixes = []string{"pv.kubernetes.io/", "volume.kubernetes.io/", "volume.beta.kubernetes.io/"}

// SanitizeOptions tune SanitizeWith.
type SanitizeOptions struct {
	// KeepNodePorts keeps the node ports of Services (spec.ports[].nodePort
	// and spec.healthCheckNodePort), for Services whose ports are pinned
	// because something outside the cluster targets them. By default the
	// target cluster allocates its own.
	KeepNodePorts bool
	// TokenSecrets names Secrets in the object's namespace that hold
	// service-account tokens. A ServiceAccount's references to them are
	// dropped, as are references named like the legacy token controller's
	// "<serviceaccount>-token-<suffix>".
	TokenSecrets map[string]bool
}

// Sanitize returns a copy of obj fit to apply to another cluster, with
// default options (see SanitizeWith). obj is not modified.
func Sanitize(obj *unstructured.Unstructured) (*unstructured.Unstructured, error) {
	return SanitizeWith(obj, SanitizeOptions{})
}

// SanitizeWith returns a copy of obj without what its cluster assigned:
//
//   - always: status; metadata uid, resourceVersion, generation,
//     creationTimestamp, deletionTimestamp, deletionGracePeriodSeconds,
//     managedFields, selfLink and ownerReferences; the last-applied and
//     deployment revision annotations;
//   - pod templates (any spec.template, a CronJob's job template) and Pods:
//     spec.nodeName;
//   - Service: spec.clusterIP and spec.clusterIPs (unless headless, "None"),
//     and node ports unless o.KeepNodePorts; the type is kept;
//   - PersistentVolumeClaim: spec.volumeName and the pv.kubernetes.io/,
//     volume.kubernetes.io/ and volume.beta.kubernetes.io/ annotations;
//   - Job: the controller-uid labels and selector terms, and a selector
//     left empty by that (the target generates its own);
//   - ServiceAccount: references to token Secrets;
//   - Namespace: spec (its finalizers belong to the cluster).
//
// A field of an unexpected type (spec.ports that is not a list) is an
// error naming the object.
func SanitizeWith(obj *unstructured.Unstructured, o SanitizeOptions) (*unstructured.Unstructured, error) {
	if obj == nil {
		return nil, errors.New("sanitize: nil object")
	}
	out := obj.DeepCopy()
	sanitizeMeta(out)
	var err error
	switch out.GroupVersionKind().GroupKind() {
	case schema.GroupKind{Kind: "Service"}:
		err = sanitizeService(out, o.KeepNodePorts)
	case schema.GroupKind{Kind: "PersistentVolumeClaim"}:
		sanitizePVC(out)
	case schema.GroupKind{Group: "batch", Kind: "Job"}:
		err = sanitizeJob(out)
	case schema.GroupKind{Kind: "ServiceAccount"}:
		err = sanitizeServiceAccount(out, o.TokenSecrets)
	case schema.GroupKind{Kind: "Namespace"}:
		unstructured.RemoveNestedField(out.Object, "spec")
	case schema.GroupKind{Kind: "Pod"}:
		unstructured.RemoveNestedField(out.Object, "spec", "nodeName")
	}
	if err != nil {
		return nil, fmt.Errorf("sanitize %s %s: %w", out.GetKind(), objectName(out), err)
	}
	unstructured.RemoveNestedField(out.Object, "spec", "template", "spec", "nodeName")
	unstructured.RemoveNestedField(out.Object, "spec", "jobTemplate", "spec", "template", "spec", "nodeName")
	return out, nil
}

// sanitizeMeta drops status and the metadata the source cluster assigned.
func sanitizeMeta(obj *unstructured.Unstructured) {
	unstructured.RemoveNestedField(obj.Object, "status")
	for _, f := range []string{
		"uid", "resourceVersion", "generation", "creationTimestamp", "deletionTimestamp",
		"deletionGracePeriodSeconds", "managedFields", "selfLink", "ownerReferences",
	} {
		unstructured.RemoveNestedField(obj.Object, "metadata", f)
	}
	removeKeys(obj.Object, []string{"metadata", "annotations"}, func(k string) bool {
		return k == lastAppliedAnnotation || k == revisionAnnotation
	})
}

// sanitizeService drops the addresses and, unless kept, the node ports the
// source cluster allocated.
func sanitizeService(obj *unstructured.Unstructured, keepNodePorts bool) error {
	ip, _, _ := unstructured.NestedString(obj.Object, "spec", "clusterIP")
	if ip != "None" { // a headless Service stays headless
		unstructured.RemoveNestedField(obj.Object, "spec", "clusterIP")
		unstructured.RemoveNestedField(obj.Object, "spec", "clusterIPs")
	}
	if keepNodePorts {
		return nil
	}
	unstructured.RemoveNestedField(obj.Object, "spec", "healthCheckNodePort")
	ports, found, err := unstructured.NestedSlice(obj.Object, "spec", "ports")
	if err != nil || !found {
		return err
	}
	for i, p := range ports {
		port, ok := p.(map[string]any)
		if !ok {
			return fmt.Errorf("spec.ports[%d] is %T, want an object", i, p)
		}
		delete(port, "nodePort")
	}
	return unstructured.SetNestedSlice(obj.Object, ports, "spec", "ports")
}

// sanitizePVC unbinds a claim from the source cluster's volume.
func sanitizePVC(obj *unstructured.Unstructured) {
	unstructured.RemoveNestedField(obj.Object, "spec", "volumeName")
	removeKeys(obj.Object, []string{"metadata", "annotations"}, func(k string) bool {
		for _, p := range volumeAnnotationPrefixes {
			if strings.HasPrefix(k, p) {
				return true
			}
		}
		return false
	})
}

// sanitizeJob drops the labels and selector terms naming the source Job's
// uid; the target cluster generates them for its own uid.
func sanitizeJob(obj *unstructured.Unstructured) error {
	isUID := func(k string) bool { return k == jobUIDLabel || k == legacyJobUIDLabel }
	removeKeys(obj.Object, []string{"metadata", "labels"}, isUID)
	removeKeys(obj.Object, []string{"spec", "template", "metadata", "labels"}, isUID)
	removeKeys(obj.Object, []string{"spec", "selector", "matchLabels"}, isUID)
	sel, found, err := unstructured.NestedMap(obj.Object, "spec", "selector")
	if err != nil || !found {
		return err
	}
	if len(sel) == 0 {
		unstructured.RemoveNestedField(obj.Object, "spec", "selector")
	}
	return nil
}

// sanitizeServiceAccount drops references to token Secrets: the target
// cluster issues its own tokens.
func sanitizeServiceAccount(obj *unstructured.Unstructured, tokens map[string]bool) error {
	refs, found, err := unstructured.NestedSlice(obj.Object, "secrets")
	if err != nil || !found {
		return err
	}
	prefix := obj.GetName() + "-token-"
	kept := refs[:0]
	for i, r := range refs {
		ref, ok := r.(map[string]any)
		if !ok {
			return fmt.Errorf("secrets[%d] is %T, want an object", i, r)
		}
		name, _ := ref["name"].(string)
		if tokens[name] || strings.HasPrefix(name, prefix) {
			continue
		}
		kept = append(kept, ref)
	}
	if len(kept) == 0 {
		unstructured.RemoveNestedField(obj.Object, "secrets")
		return nil
	}
	return unstructured.SetNestedSlice(obj.Object, kept, "secrets")
}

// removeKeys deletes the keys of the string map at path for which drop is
// true, and the map itself when that empties it.
func removeKeys(obj map[string]any, path []string, drop func(string) bool) {
	m, found, err := unstructured.NestedFieldNoCopy(obj, path...)
	mm, ok := m.(map[string]any)
	if err != nil || !found || !ok {
		return
	}
	for k := range mm {
		if drop(k) {
			delete(mm, k)
		}
	}
	if len(mm) == 0 {
		unstructured.RemoveNestedField(obj, path...)
	}
}

// objectName returns "<namespace>/<name>", or "<name>" when cluster-scoped.
func objectName(obj *unstructured.Unstructured) string {
	if ns := obj.GetNamespace(); ns != "" {
		return ns + "/" + obj.GetName()
	}
	return obj.GetName()
}
