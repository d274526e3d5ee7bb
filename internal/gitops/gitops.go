// Package gitops recognises objects that a GitOps tool owns (Argo CD,
// Flux, Helm), so that bluegreen can say what the tool will do to its
// changes before it makes them: with self-heal, Argo CD puts a Service's
// selector back within seconds of a switch, and Flux at its next
// reconciliation.
package gitops

import (
	"fmt"
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Owner is the tool that manages an object, and how it was recognised.
type Owner struct {
	// Tool is "Argo CD", "Flux" or "Helm".
	Tool string
	// By says what gave it away, e.g. `annotation argocd.argoproj.io/tracking-id=shop:apps/Deployment:prod/shop`.
	By string
}

func (o Owner) String() string { return o.Tool + " (" + o.By + ")" }

// The labels and annotations each tool sets on what it applies.
const (
	ArgoTrackingID    = "argocd.argoproj.io/tracking-id"
	ArgoInstanceLabel = "argocd.argoproj.io/instance"
	FluxKustomize     = "kustomize.toolkit.fluxcd.io/name"
	FluxKustomizeNS   = "kustomize.toolkit.fluxcd.io/namespace"
	FluxHelm          = "helm.toolkit.fluxcd.io/name"
	FluxHelmNS        = "helm.toolkit.fluxcd.io/namespace"
	HelmManagedBy     = "app.kubernetes.io/managed-by"
	HelmRelease       = "meta.helm.sh/release-name"
	HelmReleaseNS     = "meta.helm.sh/release-namespace"
)

// trackingKeys are the labels and annotations a copy of an object must
// not carry: the tool would take the copy for one of its own, and prune it
// or fight over it.
var trackingKeys = []string{ArgoTrackingID, ArgoInstanceLabel, FluxKustomize, FluxKustomizeNS, FluxHelm, FluxHelmNS,
	HelmRelease, HelmReleaseNS}

// managers are field managers of GitOps controllers, for objects applied
// without tracking labels.
var managers = map[string]string{
	"argocd-controller":             "Argo CD",
	"argocd-application-controller": "Argo CD",
	"kustomize-controller":          "Flux",
	"helm-controller":               "Flux",
}

// OwnerOf returns the GitOps tool managing obj, if any.
func OwnerOf(obj metav1.Object) (Owner, bool) {
	l, a := obj.GetLabels(), obj.GetAnnotations()
	switch {
	case a[ArgoTrackingID] != "":
		return Owner{"Argo CD", "annotation " + ArgoTrackingID + "=" + a[ArgoTrackingID]}, true
	case l[ArgoInstanceLabel] != "":
		return Owner{"Argo CD", "label " + ArgoInstanceLabel + "=" + l[ArgoInstanceLabel]}, true
	case l[FluxKustomize] != "":
		return Owner{"Flux", fmt.Sprintf("Kustomization %s/%s", l[FluxKustomizeNS], l[FluxKustomize])}, true
	case l[FluxHelm] != "":
		return Owner{"Flux", fmt.Sprintf("HelmRelease %s/%s", l[FluxHelmNS], l[FluxHelm])}, true
	case strings.EqualFold(l[HelmManagedBy], "Helm") && a[HelmRelease] != "":
		return Owner{"Helm", "release " + a[HelmRelease]}, true
	}
	for _, m := range obj.GetManagedFields() {
		if tool, ok := managers[m.Manager]; ok {
			return Owner{tool, "field manager " + m.Manager}, true
		}
	}
	return Owner{}, false
}

// Untracked returns m without the GitOps tracking keys (a copy; nil stays
// nil).
func Untracked(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		if !slices.Contains(trackingKeys, k) {
			out[k] = v
		}
	}
	return out
}

// Consequence says what the tool does to bluegreen's changes of an object
// it owns, and how to let them stand.
func (o Owner) Consequence() string {
	switch o.Tool {
	case "Argo CD":
		return "with self-heal on, Argo CD puts the selector and images back within seconds of a switch; " +
			"add ignoreDifferences for /spec/selector (Services) and /spec/template/spec/containers/image (Deployments) to the Application"
	case "Flux":
		return "Flux puts the selector and images back at its next reconciliation; " +
			"move the Service selector and the images out of the Kustomization (or suspend it during releases)"
	}
	return "the next `helm upgrade` puts the selector and images back; keep them out of the chart's values or pass them from bluegreen's state"
}
