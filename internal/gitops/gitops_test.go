package gitops

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestOwnerOf(t *testing.T) {
	tests := []struct {
		name string
		meta metav1.ObjectMeta
		want string // "" = not owned
	}{
		{"argo annotation tracking", metav1.ObjectMeta{Annotations: map[string]string{ArgoTrackingID: "shop:apps/Deployment:prod/shop"}}, "Argo CD"},
		{"argo label tracking", metav1.ObjectMeta{Labels: map[string]string{ArgoInstanceLabel: "shop"}}, "Argo CD"},
		{"flux kustomization", metav1.ObjectMeta{Labels: map[string]string{FluxKustomize: "apps", FluxKustomizeNS: "flux-system"}}, "Flux"},
		{"flux helm release", metav1.ObjectMeta{Labels: map[string]string{FluxHelm: "shop", FluxHelmNS: "prod"}}, "Flux"},
		{"helm", metav1.ObjectMeta{Labels: map[string]string{HelmManagedBy: "Helm"}, Annotations: map[string]string{HelmRelease: "shop"}}, "Helm"},
		{"argo by field manager", metav1.ObjectMeta{ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "kubectl"}, {Manager: "argocd-controller"}}}, "Argo CD"},
		{"helm label alone is not enough", metav1.ObjectMeta{Labels: map[string]string{HelmManagedBy: "Helm"}}, ""},
		{"plain", metav1.ObjectMeta{Labels: map[string]string{"app": "shop"}, ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "kubectl"}}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, ok := OwnerOf(&tt.meta)
			if ok != (tt.want != "") || o.Tool != tt.want {
				t.Fatalf("OwnerOf = %+v, %v; want %q", o, ok, tt.want)
			}
			if ok && (o.By == "" || o.Consequence() == "") {
				t.Fatalf("owner %+v says neither how it was found nor what it does", o)
			}
		})
	}
}

func TestUntrackedDropsOnlyTrackingKeys(t *testing.T) {
	got := Untracked(map[string]string{ArgoInstanceLabel: "shop", FluxKustomize: "apps", "app": "shop", "track": "blue"})
	if len(got) != 2 || got["app"] != "shop" || got["track"] != "blue" {
		t.Fatalf("Untracked = %v", got)
	}
	if Untracked(nil) != nil {
		t.Fatal("Untracked(nil) should stay nil")
	}
}
