package apiscan

import (
	"reflect"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	"sigs.k8s.io/yaml"
)

// TestLiveEvidence checks how ScanCluster reads an object's history, on
// objects as a source cluster that still serves the old versions stores
// them (a test-bed API server drops managedFields entries at versions it no
// longer serves; see seedManagedFields).
func TestLiveEvidence(t *testing.T) {
	const (
		flowV1 = "apiVersion: flowcontrol.apiserver.k8s.io/v1\nkind: FlowSchema\n"
		depV1  = "apiVersion: apps/v1\nkind: Deployment\n"
	)
	tests := []struct {
		name    string
		target  string
		objects []string
		want    []string
	}{
		{"managedFields at a version the target removed", "1.33",
			[]string{flowV1 + "metadata:\n  name: batch-jobs\n  managedFields:\n  - {manager: helm, operation: Update, apiVersion: flowcontrol.apiserver.k8s.io/v1beta3}\n  - {manager: kube-apiserver, operation: Update, apiVersion: flowcontrol.apiserver.k8s.io/v1, subresource: status}\n"},
			[]string{"live: FlowSchema batch-jobs (managedFields by helm) flowcontrol.apiserver.k8s.io/v1beta3"}},
		{"the same object for a target that still serves it", "1.31",
			[]string{flowV1 + "metadata:\n  name: batch-jobs\n  managedFields:\n  - {manager: helm, operation: Update, apiVersion: flowcontrol.apiserver.k8s.io/v1beta3}\n"},
			nil},
		{"objects the API server maintains are skipped", "1.33",
			[]string{flowV1 + "metadata:\n  name: exempt\n  annotations: {apf.kubernetes.io/autoupdate-spec: \"true\"}\n  managedFields:\n  - {manager: api-priority-and-fairness-config-producer-v1, operation: Update, apiVersion: flowcontrol.apiserver.k8s.io/v1beta3}\n"},
			nil},
		{"one finding per object and apiVersion, last-applied first", "1.33",
			[]string{depV1 + "metadata:\n  name: web\n  namespace: shop\n  annotations:\n    kubectl.kubernetes.io/last-applied-configuration: '{\"apiVersion\":\"extensions/v1beta1\",\"kind\":\"Deployment\"}'\n  managedFields:\n  - {manager: kubectl-client-side-apply, operation: Update, apiVersion: extensions/v1beta1}\n  - {manager: old-ci, operation: Update, apiVersion: apps/v1beta2}\n"},
			[]string{
				"live: Deployment shop/web (last-applied) extensions/v1beta1",
				"live: Deployment shop/web (managedFields by old-ci) apps/v1beta2",
			}},
		{"last-applied without a kind uses the object's", "1.33",
			[]string{depV1 + "metadata:\n  name: web\n  namespace: shop\n  annotations:\n    kubectl.kubernetes.io/last-applied-configuration: '{\"apiVersion\":\"apps/v1beta1\"}'\n"},
			[]string{"live: Deployment shop/web (last-applied) apps/v1beta1"}},
		{"a last-applied that does not parse is no evidence", "1.33",
			[]string{depV1 + "metadata:\n  name: web\n  namespace: shop\n  annotations:\n    kubectl.kubernetes.io/last-applied-configuration: '{apiVersion: extensions/v1beta1'\n"},
			nil},
		{"objects a controller owns are skipped", "1.33",
			[]string{"apiVersion: apps/v1\nkind: ReplicaSet\nmetadata:\n  name: web-5d4f\n  namespace: shop\n  ownerReferences: [{apiVersion: apps/v1, kind: Deployment, name: web, uid: u1, controller: true}]\n  managedFields:\n  - {manager: kube-controller-manager, operation: Update, apiVersion: extensions/v1beta1}\n"},
			nil},
		{"a PodSecurityPolicy still served is a finding as such", "1.25",
			[]string{"apiVersion: policy/v1beta1\nkind: PodSecurityPolicy\nmetadata: {name: restricted}\n"},
			[]string{"live: PodSecurityPolicy restricted (served) policy/v1beta1"}},
		{"findings are ordered by kind, namespace and name", "1.33",
			[]string{
				"apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata:\n  name: web\n  namespace: shop\n  managedFields: [{manager: helm, operation: Update, apiVersion: autoscaling/v2beta2}]\n",
				depV1 + "metadata:\n  name: web\n  namespace: shop\n  managedFields: [{manager: helm, operation: Update, apiVersion: apps/v1beta2}]\n",
				depV1 + "metadata:\n  name: api\n  namespace: shop\n  managedFields: [{manager: helm, operation: Update, apiVersion: apps/v1beta2}]\n",
			},
			[]string{
				"live: Deployment shop/api (managedFields by helm) apps/v1beta2",
				"live: Deployment shop/web (managedFields by helm) apps/v1beta2",
				"live: HorizontalPodAutoscaler shop/web (managedFields by helm) autoscaling/v2beta2",
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dyn := fakeDynamic(t, tt.objects...)
			findings, err := ScanCluster(t.Context(), dyn, tt.target, nil)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, f := range findings {
				got = append(got, f.Source+" "+f.Removal.APIVersion)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("\n got  %q\n want %q", got, tt.want)
			}
		})
	}
}

// fakeDynamic returns a fake dynamic client that serves every resource
// ScanCluster lists, holding objects (YAML).
func fakeDynamic(t *testing.T, objects ...string) *dynamicfake.FakeDynamicClient {
	t.Helper()
	listKinds := map[schema.GroupVersionResource]string{}
	for _, r := range liveResources {
		for _, gv := range r.versions {
			listKinds[gv] = r.kind + "List"
		}
	}
	var objs []runtime.Object
	for _, y := range objects {
		var m map[string]any
		if err := yaml.Unmarshal([]byte(y), &m); err != nil {
			t.Fatalf("bad test object: %v\n%s", err, y)
		}
		objs = append(objs, &unstructured.Unstructured{Object: m})
	}
	return dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), listKinds, objs...)
}
