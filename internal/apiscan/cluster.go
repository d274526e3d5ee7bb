package apiscan

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"

	"github.com/bluegreen/bluegreen/internal/kube"
)

// LastAppliedAnnotation is where `kubectl apply` (client-side) records the
// manifest it applied, apiVersion included.
const LastAppliedAnnotation = "kubectl.kubernetes.io/last-applied-configuration"

// apfAutoUpdateAnnotation marks the FlowSchemas and
// PriorityLevelConfigurations that the API server itself keeps up to date.
// It rewrites them at its own version, so they are never a finding.
const apfAutoUpdateAnnotation = "apf.kubernetes.io/autoupdate-spec"

// listPageSize bounds each list call of a live scan.
const listPageSize = 500

// resource is one kind a live scan lists.
type resource struct {
	kind string
	// versions are the group/versions to list at, in order; the first one
	// the cluster serves is used, so that older clusters are scanned too.
	versions   []schema.GroupVersionResource
	namespaced bool
	// removedOnly marks a kind that only exists at a removed version: every
	// object the cluster still serves is a finding.
	removedOnly bool
}

// gvr is a shorthand for the resource tables below.
func gvr(group, version, res string) schema.GroupVersionResource {
	return schema.GroupVersionResource{Group: group, Version: version, Resource: res}
}

// liveResources are the kinds ScanCluster lists: the workload kinds people
// write by hand or by chart, and the cluster-scoped kinds a migration has
// to recreate.
var liveResources = []resource{
	{kind: "Deployment", namespaced: true, versions: []schema.GroupVersionResource{gvr("apps", "v1", "deployments")}},
	{kind: "StatefulSet", namespaced: true, versions: []schema.GroupVersionResource{gvr("apps", "v1", "statefulsets")}},
	{kind: "DaemonSet", namespaced: true, versions: []schema.GroupVersionResource{gvr("apps", "v1", "daemonsets")}},
	{kind: "ReplicaSet", namespaced: true, versions: []schema.GroupVersionResource{gvr("apps", "v1", "replicasets")}},
	{kind: "CronJob", namespaced: true, versions: []schema.GroupVersionResource{gvr("batch", "v1", "cronjobs"), gvr("batch", "v1beta1", "cronjobs")}},
	{kind: "Job", namespaced: true, versions: []schema.GroupVersionResource{gvr("batch", "v1", "jobs")}},
	{kind: "Service", namespaced: true, versions: []schema.GroupVersionResource{gvr("", "v1", "services")}},
	{kind: "Ingress", namespaced: true, versions: []schema.GroupVersionResource{gvr("networking.k8s.io", "v1", "ingresses")}},
	{kind: "HorizontalPodAutoscaler", namespaced: true, versions: []schema.GroupVersionResource{gvr("autoscaling", "v2", "horizontalpodautoscalers"), gvr("autoscaling", "v1", "horizontalpodautoscalers")}},
	{kind: "PodDisruptionBudget", namespaced: true, versions: []schema.GroupVersionResource{gvr("policy", "v1", "poddisruptionbudgets"), gvr("policy", "v1beta1", "poddisruptionbudgets")}},
	{kind: "NetworkPolicy", namespaced: true, versions: []schema.GroupVersionResource{gvr("networking.k8s.io", "v1", "networkpolicies")}},
	{kind: "Role", namespaced: true, versions: []schema.GroupVersionResource{gvr("rbac.authorization.k8s.io", "v1", "roles")}},
	{kind: "RoleBinding", namespaced: true, versions: []schema.GroupVersionResource{gvr("rbac.authorization.k8s.io", "v1", "rolebindings")}},

	{kind: "IngressClass", versions: []schema.GroupVersionResource{gvr("networking.k8s.io", "v1", "ingressclasses")}},
	{kind: "PriorityClass", versions: []schema.GroupVersionResource{gvr("scheduling.k8s.io", "v1", "priorityclasses")}},
	{kind: "StorageClass", versions: []schema.GroupVersionResource{gvr("storage.k8s.io", "v1", "storageclasses")}},
	{kind: "CSIDriver", versions: []schema.GroupVersionResource{gvr("storage.k8s.io", "v1", "csidrivers")}},
	{kind: "RuntimeClass", versions: []schema.GroupVersionResource{gvr("node.k8s.io", "v1", "runtimeclasses")}},
	{kind: "MutatingWebhookConfiguration", versions: []schema.GroupVersionResource{gvr("admissionregistration.k8s.io", "v1", "mutatingwebhookconfigurations")}},
	{kind: "ValidatingWebhookConfiguration", versions: []schema.GroupVersionResource{gvr("admissionregistration.k8s.io", "v1", "validatingwebhookconfigurations")}},
	{kind: "CustomResourceDefinition", versions: []schema.GroupVersionResource{gvr("apiextensions.k8s.io", "v1", "customresourcedefinitions")}},
	{kind: "APIService", versions: []schema.GroupVersionResource{gvr("apiregistration.k8s.io", "v1", "apiservices")}},
	{kind: "ClusterRole", versions: []schema.GroupVersionResource{gvr("rbac.authorization.k8s.io", "v1", "clusterroles")}},
	{kind: "ClusterRoleBinding", versions: []schema.GroupVersionResource{gvr("rbac.authorization.k8s.io", "v1", "clusterrolebindings")}},
	{kind: "FlowSchema", versions: []schema.GroupVersionResource{gvr("flowcontrol.apiserver.k8s.io", "v1", "flowschemas"), gvr("flowcontrol.apiserver.k8s.io", "v1beta3", "flowschemas")}},
	{kind: "PriorityLevelConfiguration", versions: []schema.GroupVersionResource{gvr("flowcontrol.apiserver.k8s.io", "v1", "prioritylevelconfigurations"), gvr("flowcontrol.apiserver.k8s.io", "v1beta3", "prioritylevelconfigurations")}},
	{kind: "PodSecurityPolicy", removedOnly: true, versions: []schema.GroupVersionResource{gvr("policy", "v1beta1", "podsecuritypolicies")}},
}

// ScanCluster reports the objects of a live cluster that were written with
// an API version the release target no longer serves. Reading an object
// always returns it at a served version, so the evidence is how it was
// written: the apiVersion in its last-applied-configuration annotation and
// in each of its metadata.managedFields entries (one per writer). A
// PodSecurityPolicy that the cluster still serves is a finding as such.
//
// Namespaced kinds are listed in namespaces (all namespaces when empty);
// cluster-scoped kinds are always listed, since a migration recreates them
// too. Objects with a controller owner (a Deployment's ReplicaSets, a
// CronJob's Jobs) are skipped: a controller writes them, not a person or a
// pipeline. A kind the cluster does not serve at any version the scan
// knows is skipped. Findings are de-duplicated per object and apiVersion,
// the last-applied evidence winning, and ordered by kind, namespace, name.
func ScanCluster(ctx context.Context, dyn dynamic.Interface, target string, namespaces []string) ([]Finding, error) {
	v, err := ParseVersion(target)
	if err != nil {
		return nil, err
	}
	if len(namespaces) == 0 {
		namespaces = []string{metav1.NamespaceAll}
	}
	seen := map[string]bool{}
	var out []Finding
	for _, res := range liveResources {
		scopes := []string{""}
		if res.namespaced {
			scopes = namespaces
		}
		for _, ns := range scopes {
			err := listServed(ctx, dyn, res, ns, func(obj *unstructured.Unstructured) {
				for _, f := range liveFindings(res, obj, v) {
					key := f.Kind + "\x00" + f.Namespace + "\x00" + f.Name + "\x00" + f.Removal.APIVersion
					if !seen[key] {
						seen[key] = true
						out = append(out, f)
					}
				}
			})
			if err != nil {
				return nil, err
			}
		}
	}
	slices.SortStableFunc(out, func(a, b Finding) int {
		return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
	})
	return out, nil
}

// listServed lists res in ns at the first version the cluster serves and
// calls visit for every object.
func listServed(ctx context.Context, dyn dynamic.Interface, res resource, ns string, visit func(*unstructured.Unstructured)) error {
	for _, gv := range res.versions {
		err := listAll(ctx, dyn.Resource(gv).Namespace(ns), visit)
		if apierrors.IsNotFound(err) {
			continue // not served at this version
		}
		if err != nil {
			where := ""
			if ns != "" {
				where = " in namespace " + ns
			}
			return fmt.Errorf("list %s%s: %w", gv.GroupResource(), where, err)
		}
		return nil
	}
	return nil
}

// listAll pages through a list.
func listAll(ctx context.Context, ri dynamic.ResourceInterface, visit func(*unstructured.Unstructured)) error {
	return kube.ListAll(ctx, ri, metav1.ListOptions{Limit: listPageSize}, visit)
}

// liveFindings returns the evidence that obj was written with a removed
// API version: last-applied first, then managedFields in their order.
func liveFindings(res resource, obj *unstructured.Unstructured, target Version) []Finding {
	if skipLive(obj) {
		return nil
	}
	where := res.kind + " " + obj.GetName()
	if obj.GetNamespace() != "" {
		where = res.kind + " " + obj.GetNamespace() + "/" + obj.GetName()
	}
	finding := func(r Removal, how string) Finding {
		return Finding{
			Source: "live: " + where + " (" + how + ")", Document: -1, Item: -1,
			Kind: res.kind, Namespace: obj.GetNamespace(), Name: obj.GetName(), Removal: r,
		}
	}
	var out []Finding
	if res.removedOnly {
		if r, ok := removedBy(obj.GetAPIVersion(), res.kind, target); ok {
			out = append(out, finding(r, "served"))
		}
	}
	if av, kind, ok := lastApplied(obj); ok {
		if kind == "" {
			kind = res.kind
		}
		if r, ok := removedBy(av, kind, target); ok {
			out = append(out, finding(r, "last-applied"))
		}
	}
	for _, mf := range obj.GetManagedFields() {
		if r, ok := removedBy(mf.APIVersion, res.kind, target); ok {
			out = append(out, finding(r, "managedFields by "+mf.Manager))
		}
	}
	return out
}

// skipLive reports objects whose writer is a controller or the API server
// itself.
func skipLive(obj *unstructured.Unstructured) bool {
	if metav1.GetControllerOfNoCopy(obj) != nil {
		return true
	}
	return obj.GetAnnotations()[apfAutoUpdateAnnotation] == "true"
}

// lastApplied returns the apiVersion and kind recorded in obj's
// last-applied-configuration annotation. An annotation that does not parse
// is no evidence either way.
func lastApplied(obj *unstructured.Unstructured) (apiVersion, kind string, ok bool) {
	raw, found := obj.GetAnnotations()[LastAppliedAnnotation]
	if !found {
		return "", "", false
	}
	var tm metav1.TypeMeta
	if err := json.Unmarshal([]byte(raw), &tm); err != nil || tm.APIVersion == "" {
		return "", "", false
	}
	return tm.APIVersion, tm.Kind, true
}
