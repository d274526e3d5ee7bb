package standby

import (
	"context"
	"strings"
	"testing"
)

func TestSelectionValidation(t *testing.T) {
	tests := []struct {
		name    string
		sel     Selection
		wantErr string
	}{
		{"no namespaces", Selection{}, "no namespaces"},
		{"bad namespace", Selection{Namespaces: []string{"Shop"}}, `namespace "Shop"`},
		{"bad label selector", Selection{Namespaces: []string{"shop"}, LabelSelector: "app in (web"}, `label selector "app in (web"`},
		{"empty name", Selection{Namespaces: []string{"shop"}, Names: []string{""}}, `name "": want Kind/name or name`},
		{"kind without name", Selection{Namespaces: []string{"shop"}, Names: []string{"Deployment/"}}, `name "Deployment/"`},
		{"name without kind", Selection{Namespaces: []string{"shop"}, Names: []string{"/web"}}, `name "/web"`},
		{"two slashes", Selection{Namespaces: []string{"shop"}, Names: []string{"apps/Deployment/web"}}, `name "apps/Deployment/web"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// An invalid selection fails before the cluster is touched:
			// the empty Cluster would panic otherwise.
			_, err := Plan(context.Background(), &Cluster{}, tt.sel)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestSelectionDefaults(t *testing.T) {
	sel, err := Selection{Namespaces: []string{"shop", "cart", "shop"}}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(sel.Namespaces, ","); got != "shop,cart" {
		t.Errorf("namespaces = %s, want shop,cart", got)
	}
	if got, want := strings.Join(sel.Kinds, ","), strings.Join(DefaultKinds(), ","); got != want {
		t.Errorf("kinds = %s, want %s", got, want)
	}
}

func TestMatchName(t *testing.T) {
	tests := []struct {
		names      []string
		kind, name string
		want       bool
	}{
		{nil, "Deployment", "web", true},
		{[]string{"web"}, "Deployment", "web", true},
		{[]string{"web"}, "Service", "web", true},
		{[]string{"web"}, "Service", "api", false},
		{[]string{"Deployment/web"}, "Deployment", "web", true},
		{[]string{"deployment/web"}, "Deployment", "web", true},
		{[]string{"Deployment/web"}, "Service", "web", false},
		{[]string{"Service/api", "Deployment/web"}, "Deployment", "web", true},
	}
	for _, tt := range tests {
		if got := (Selection{Names: tt.names}).matchName(tt.kind, tt.name); got != tt.want {
			t.Errorf("Names %q match %s/%s = %v, want %v", tt.names, tt.kind, tt.name, got, tt.want)
		}
	}
}

func TestSkipReason(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"plain deployment", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: shop}\n", ""},
		{"owned by a controller", "apiVersion: apps/v1\nkind: ReplicaSet\nmetadata: {name: web-5d4f, namespace: shop, ownerReferences: [{apiVersion: apps/v1, kind: Deployment, name: web, uid: u1, controller: true}]}\n", "owned by Deployment web"},
		{"owner that is not a controller", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: shop, ownerReferences: [{apiVersion: v1, kind: ConfigMap, name: o, uid: u1}]}\n", ""},
		{"being deleted", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: shop, deletionTimestamp: \"2024-01-01T00:00:00Z\"}\n", "being deleted"},
		{"default service account", "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: default, namespace: shop}\n", "created by the cluster in every namespace"},
		{"other service account", "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: web, namespace: shop}\n", ""},
		{"root CA config map", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: kube-root-ca.crt, namespace: shop}\n", "created by the cluster in every namespace"},
		{"API server service", "apiVersion: v1\nkind: Service\nmetadata: {name: kubernetes, namespace: default}\n", "the cluster's own API server Service"},
		{"a service named kubernetes elsewhere", "apiVersion: v1\nkind: Service\nmetadata: {name: kubernetes, namespace: shop}\n", ""},
		{"token secret", "apiVersion: v1\nkind: Secret\nmetadata: {name: web-token, namespace: shop}\ntype: kubernetes.io/service-account-token\n", "service-account token; the target cluster issues its own"},
		{"opaque secret", "apiVersion: v1\nkind: Secret\nmetadata: {name: web, namespace: shop}\ntype: Opaque\n", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := skipReason(obj(t, tt.in)); got != tt.want {
				t.Fatalf("skipReason = %q, want %q", got, tt.want)
			}
		})
	}
}
