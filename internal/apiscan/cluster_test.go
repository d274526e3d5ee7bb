//go:build testbed

package apiscan

import (
	"cmp"
	"context"
	"reflect"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"github.com/bluegreen/bluegreen/test/testbed"
)

// lastAppliedAs returns a last-applied-configuration annotation recording
// that kind name was applied at apiVersion.
func lastAppliedAs(apiVersion, kind, name string) map[string]string {
	return map[string]string{
		LastAppliedAnnotation: `{"apiVersion":"` + apiVersion + `","kind":"` + kind + `","metadata":{"name":"` + name + `"}}`,
	}
}

// liveDeployment returns a one-replica Deployment.
func liveDeployment(ns, name string, annotations map[string]string) *appsv1.Deployment {
	labels := map[string]string{"app": name}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Annotations: annotations},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](1),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "example.com/app:1"}}},
			},
		},
	}
}

// seedLegacyCluster creates, in namespaces shop and other, objects whose
// history shows removed API versions, and objects that must not be
// reported.
func seedLegacyCluster(ctx context.Context, t *testing.T, kube kubernetes.Interface) {
	t.Helper()
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, ns := range []string{"shop", "other"} {
		must(kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}))
	}
	deploys := kube.AppsV1().Deployments("shop")
	// Applied with `kubectl apply` back when extensions/v1beta1 was served.
	must(deploys.Create(ctx, liveDeployment("shop", "legacy", lastAppliedAs("extensions/v1beta1", "Deployment", "legacy")), metav1.CreateOptions{}))
	// Applied with apps/v1: clean.
	must(deploys.Create(ctx, liveDeployment("shop", "clean", lastAppliedAs("apps/v1", "Deployment", "clean")), metav1.CreateOptions{}))
	// Never applied: clean.
	must(deploys.Create(ctx, liveDeployment("shop", "plain", nil), metav1.CreateOptions{}))
	// Outside the scanned namespace.
	must(kube.AppsV1().Deployments("other").Create(ctx, liveDeployment("other", "legacy", lastAppliedAs("apps/v1beta2", "Deployment", "legacy")), metav1.CreateOptions{}))

	// A Role applied at rbac v1beta1, and one that a controller owns.
	role := func(name string, owner *metav1.OwnerReference) *rbacv1.Role {
		r := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: name,
			Annotations: lastAppliedAs("rbac.authorization.k8s.io/v1beta1", "Role", name)}}
		if owner != nil {
			r.OwnerReferences = []metav1.OwnerReference{*owner}
		}
		return r
	}
	must(kube.RbacV1().Roles("shop").Create(ctx, role("reader", nil), metav1.CreateOptions{}))
	owner, err := kube.CoreV1().ConfigMaps("shop").Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "owner"}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	must(kube.RbacV1().Roles("shop").Create(ctx, role("owned", &metav1.OwnerReference{
		APIVersion: "v1", Kind: "ConfigMap", Name: owner.Name, UID: owner.UID, Controller: ptr.To(true),
	}), metav1.CreateOptions{}))

	// A cluster-scoped PriorityClass applied at scheduling v1beta1.
	must(kube.SchedulingV1().PriorityClasses().Create(ctx, &schedulingv1.PriorityClass{
		ObjectMeta: metav1.ObjectMeta{Name: "shop-critical", Annotations: lastAppliedAs("scheduling.k8s.io/v1beta1", "PriorityClass", "shop-critical")},
		Value:      1000,
	}, metav1.CreateOptions{}))
}

func TestScanCluster(t *testing.T) {
	c := testbed.StartT(t, testbed.Options{Nodes: -1})
	ctx := t.Context()
	seedLegacyCluster(ctx, t, c.Client)
	rewritten := seedManagedFields(ctx, t, c.Client)
	dyn, err := dynamic.NewForConfig(c.Config)
	if err != nil {
		t.Fatal(err)
	}

	var (
		legacy    = "live: Deployment shop/legacy (last-applied) extensions/v1beta1 1.16"
		other     = "live: Deployment other/legacy (last-applied) apps/v1beta2 1.16"
		reader    = "live: Role shop/reader (last-applied) rbac.authorization.k8s.io/v1beta1 1.22"
		priority  = "live: PriorityClass shop-critical (last-applied) scheduling.k8s.io/v1beta1 1.22"
		by116Shop = append([]string{legacy}, rewritten...)
	)
	tests := []struct {
		name       string
		target     string
		namespaces []string
		want       []string
	}{
		{"nothing removed yet", "1.15", []string{"shop"}, nil},
		{"1.16 in shop", "1.16", []string{"shop"}, by116Shop},
		{"1.22 adds rbac and scheduling, cluster-scoped too", "v1.22.17", []string{"shop"}, append(append([]string{legacy}, rewritten...), priority, reader)},
		{"all namespaces", "1.16", nil, append([]string{legacy, other}, rewritten...)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			findings, err := ScanCluster(ctx, dyn, tt.target, tt.namespaces)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, f := range findings {
				if f.Document != -1 || f.Item != -1 || f.File != "" {
					t.Errorf("live finding with a file position: %+v", f)
				}
				got = append(got, f.Source+" "+f.Removal.APIVersion+" "+f.Removal.RemovedIn)
			}
			sortedWant := sortFindingLines(tt.want)
			if !reflect.DeepEqual(got, sortedWant) {
				t.Fatalf("target %s namespaces %q:\n got  %q\n want %q", tt.target, tt.namespaces, got, sortedWant)
			}
		})
	}

	if _, err := ScanCluster(ctx, dyn, "latest", nil); err == nil {
		t.Fatal("an invalid target should fail")
	}
}

// seedManagedFields writes Deployment shop/rewritten with a managedFields
// entry by "legacy-pipeline" at extensions/v1beta1, the way an object last
// written by an old pipeline would carry it, and returns the finding lines
// that the stored object calls for.
//
// An API server accepts managedFields in an update, but on every write it
// drops the entries at versions it can no longer convert to (those it
// stopped serving), so a 1.34 test bed stores none: the expectation is
// then no finding. On a real source cluster the entries that survive are
// those at versions it still serves, which is what matters for a target
// that removes them (flowcontrol v1beta3 on 1.29 when moving to 1.33);
// TestLiveEvidence covers that case.
func seedManagedFields(ctx context.Context, t *testing.T, kube kubernetes.Interface) []string {
	t.Helper()
	deploys := kube.AppsV1().Deployments("shop")
	d, err := deploys.Create(ctx, liveDeployment("shop", "rewritten", nil), metav1.CreateOptions{FieldManager: "current-pipeline"})
	if err != nil {
		t.Fatal(err)
	}
	d.ManagedFields = append(d.ManagedFields, metav1.ManagedFieldsEntry{
		Manager: "legacy-pipeline", Operation: metav1.ManagedFieldsOperationUpdate, APIVersion: "extensions/v1beta1",
		Time: ptr.To(metav1.Now()), FieldsType: "FieldsV1", FieldsV1: metav1.NewFieldsV1(`{"f:spec":{"f:replicas":{}}}`),
	})
	if d, err = deploys.Update(ctx, d, metav1.UpdateOptions{FieldManager: "current-pipeline"}); err != nil {
		t.Fatal(err)
	}
	for _, mf := range d.ManagedFields {
		if mf.Manager == "legacy-pipeline" && mf.APIVersion == "extensions/v1beta1" {
			t.Log("the API server kept a managedFields entry at extensions/v1beta1")
			return []string{"live: Deployment shop/rewritten (managedFields by legacy-pipeline) extensions/v1beta1 1.16"}
		}
	}
	t.Log("the API server dropped the managedFields entry at extensions/v1beta1, which it no longer serves")
	return nil
}

// sortFindingLines orders "live: <Kind> <ns/name> ..." lines the way
// ScanCluster orders findings: by kind, namespace, name.
func sortFindingLines(lines []string) []string {
	key := func(l string) (kind, ns, name string) {
		f := strings.Fields(l)
		ns, name, found := strings.Cut(f[2], "/")
		if !found {
			ns, name = "", f[2]
		}
		return f[1], ns, name
	}
	out := slices.Clone(lines)
	slices.SortStableFunc(out, func(a, b string) int {
		ka, na, ma := key(a)
		kb, nb, mb := key(b)
		return cmp.Or(cmp.Compare(ka, kb), cmp.Compare(na, nb), cmp.Compare(ma, mb))
	})
	return out
}
