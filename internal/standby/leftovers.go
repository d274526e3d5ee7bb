package standby

import (
	"context"
	"fmt"
	"slices"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
)

// Others lists what namespace ns of c holds besides ours: the objects
// that deleting the namespace would delete although the copy did not
// create them (a claim dynamically provisioned since, a Deployment someone
// added). Undoing a copy deletes a namespace it created only when Others
// finds nothing, so that a rollback never takes anything else with it.
//
// Not counted, since the namespace itself or its owners account for them:
// the "default" ServiceAccount and "kube-root-ca.crt" ConfigMap that
// Kubernetes puts in every namespace, Events, the Endpoints of one of our
// Services, objects already being deleted, and dependents (an object with
// an owner: its owner is listed, and decides). An error means the contents
// could not all be read; the caller must then keep the namespace.
func Others(ctx context.Context, disc discovery.DiscoveryInterface, c *Cluster, ns string, ours []ObjectRef) ([]ObjectRef, error) {
	lists, err := disc.ServerPreferredNamespacedResources()
	if err != nil {
		return nil, fmt.Errorf("discover the kinds namespace %s may hold: %w", ns, err)
	}
	survey := c.Survey
	if survey == nil {
		survey = c.Dynamic
	}
	var out []ObjectRef
	for _, l := range lists {
		for _, r := range l.APIResources {
			if !slices.Contains(r.Verbs, "list") || r.Name == "events" || strings.Contains(r.Name, "/") {
				continue
			}
			gv, err := schema.ParseGroupVersion(l.GroupVersion)
			if err != nil {
				return nil, fmt.Errorf("discovery group version %q: %w", l.GroupVersion, err)
			}
			gvr := gv.WithResource(r.Name)
			err = listAll(ctx, survey.Resource(gvr).Namespace(ns), "", "", func(obj *unstructured.Unstructured) {
				ref := refOf(obj)
				if !accountedFor(obj, ref, ours) {
					out = append(out, ref)
				}
			})
			if apierrors.IsNotFound(err) || apierrors.IsMethodNotSupported(err) {
				continue
			}
			if err != nil {
				return nil, fmt.Errorf("list %s in namespace %s: %w", gvr.GroupResource(), ns, err)
			}
		}
	}
	return out, nil
}

func accountedFor(obj *unstructured.Unstructured, ref ObjectRef, ours []ObjectRef) bool {
	sameKind := func(kind string) func(ObjectRef) bool {
		return func(o ObjectRef) bool { return o.Kind == kind && o.Namespace == ref.Namespace && o.Name == ref.Name }
	}
	switch {
	case slices.ContainsFunc(ours, func(o ObjectRef) bool {
		return o.GroupVersionKind().GroupKind() == ref.GroupVersionKind().GroupKind() && o.Namespace == ref.Namespace && o.Name == ref.Name
	}),
		len(obj.GetOwnerReferences()) > 0,
		obj.GetDeletionTimestamp() != nil,
		ref.Kind == "ServiceAccount" && ref.Name == "default",
		ref.Kind == "ConfigMap" && ref.Name == "kube-root-ca.crt",
		ref.Kind == "Endpoints" && slices.ContainsFunc(ours, sameKind("Service")):
		return true
	}
	return false
}
