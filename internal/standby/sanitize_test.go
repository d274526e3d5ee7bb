package standby

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// obj parses a YAML object for the tables below.
func obj(t *testing.T, y string) *unstructured.Unstructured {
	t.Helper()
	var m map[string]any
	if err := yaml.Unmarshal([]byte(y), &m); err != nil {
		t.Fatalf("bad test YAML: %v\n%s", err, y)
	}
	return &unstructured.Unstructured{Object: m}
}

func TestSanitize(t *testing.T) {
	const cm = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\n  namespace: shop\n"
	tests := []struct {
		name string
		opts SanitizeOptions
		in   string
		want string
	}{
		{"drops status", SanitizeOptions{},
			cm + "status: {phase: x}\n", cm},
		{"drops uid", SanitizeOptions{},
			cm + "  uid: 0b5d-11\n", cm},
		{"drops resourceVersion", SanitizeOptions{},
			cm + "  resourceVersion: \"42\"\n", cm},
		{"drops generation", SanitizeOptions{},
			cm + "  generation: 3\n", cm},
		{"drops creationTimestamp", SanitizeOptions{},
			cm + "  creationTimestamp: \"2024-01-01T00:00:00Z\"\n", cm},
		{"drops deletionTimestamp and grace period", SanitizeOptions{},
			cm + "  deletionTimestamp: \"2024-01-01T00:00:00Z\"\n  deletionGracePeriodSeconds: 30\n", cm},
		{"drops managedFields", SanitizeOptions{},
			cm + "  managedFields: [{manager: kubectl, operation: Update, apiVersion: v1}]\n", cm},
		{"drops selfLink", SanitizeOptions{},
			cm + "  selfLink: /api/v1/namespaces/shop/configmaps/cfg\n", cm},
		{"drops ownerReferences", SanitizeOptions{},
			cm + "  ownerReferences: [{apiVersion: v1, kind: Pod, name: p, uid: u1}]\n", cm},
		{"drops the last-applied annotation, keeps others", SanitizeOptions{},
			cm + "  annotations:\n    kubectl.kubernetes.io/last-applied-configuration: '{}'\n    team: shop\n",
			cm + "  annotations: {team: shop}\n"},
		{"drops the deployment revision annotation and an emptied map", SanitizeOptions{},
			cm + "  annotations: {deployment.kubernetes.io/revision: \"4\"}\n", cm},
		{"keeps labels and data", SanitizeOptions{},
			cm + "  labels: {app: web}\ndata: {k: v}\n", cm + "  labels: {app: web}\ndata: {k: v}\n"},
		{"service: drops cluster IPs, keeps type", SanitizeOptions{},
			svc("ClusterIP", []string{"clusterIP: 10.96.0.12", "clusterIPs: [10.96.0.12]"}, "{port: 80}"),
			svc("ClusterIP", nil, "{port: 80}")},
		{"service: headless stays headless", SanitizeOptions{},
			svc("ClusterIP", []string{"clusterIP: None", "clusterIPs: [None]"}, "{port: 80}"),
			svc("ClusterIP", []string{"clusterIP: None", "clusterIPs: [None]"}, "{port: 80}")},
		{"service: drops node ports", SanitizeOptions{},
			svc("NodePort", nil, "{port: 80, nodePort: 30080}", "{port: 443, nodePort: 30443}"),
			svc("NodePort", nil, "{port: 80}", "{port: 443}")},
		{"service: drops healthCheckNodePort", SanitizeOptions{},
			svc("LoadBalancer", []string{"externalTrafficPolicy: Local", "healthCheckNodePort: 31000"}, "{port: 80}"),
			svc("LoadBalancer", []string{"externalTrafficPolicy: Local"}, "{port: 80}")},
		{"service: KeepNodePorts keeps node ports", SanitizeOptions{KeepNodePorts: true},
			svc("LoadBalancer", []string{"healthCheckNodePort: 31000"}, "{port: 80, nodePort: 30080}"),
			svc("LoadBalancer", []string{"healthCheckNodePort: 31000"}, "{port: 80, nodePort: 30080}")},
		{"pod template: drops nodeName", SanitizeOptions{},
			deploy("nodeName: node-1\n      "), deploy("")},
		{"pod: drops nodeName", SanitizeOptions{},
			"apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {nodeName: node-1, containers: [{name: c}]}\n",
			"apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: c}]}\n"},
		{"cronjob: drops the job template's nodeName", SanitizeOptions{},
			"apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: c}\nspec: {jobTemplate: {spec: {template: {spec: {nodeName: n, restartPolicy: Never}}}}}\n",
			"apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: c}\nspec: {jobTemplate: {spec: {template: {spec: {restartPolicy: Never}}}}}\n"},
		{"pvc: drops volumeName", SanitizeOptions{},
			pvc("", "volumeName: pvc-0b5d\n  "), pvc("", "")},
		{"pvc: drops binder and provisioner annotations", SanitizeOptions{},
			pvc("  annotations:\n    pv.kubernetes.io/bind-completed: \"yes\"\n    volume.kubernetes.io/storage-provisioner: ebs.csi.aws.com\n    volume.beta.kubernetes.io/storage-provisioner: ebs.csi.aws.com\n    volume.kubernetes.io/selected-node: node-1\n    team: shop\n", ""),
			pvc("  annotations: {team: shop}\n", "")},
		{"job: drops controller-uid labels and selector", SanitizeOptions{},
			job("  labels: {batch.kubernetes.io/controller-uid: u1, controller-uid: u1, job-name: j}\n",
				"selector: {matchLabels: {batch.kubernetes.io/controller-uid: u1}}\n  ",
				"{batch.kubernetes.io/controller-uid: u1, controller-uid: u1, job-name: j}"),
			job("  labels: {job-name: j}\n", "", "{job-name: j}")},
		{"job: keeps a manual selector's other terms", SanitizeOptions{},
			job("", "manualSelector: true\n  selector: {matchLabels: {app: j, controller-uid: u1}}\n  ", "{app: j, controller-uid: u1}"),
			job("", "manualSelector: true\n  selector: {matchLabels: {app: j}}\n  ", "{app: j}")},
		{"serviceaccount: drops token secrets", SanitizeOptions{TokenSecrets: map[string]bool{"api-token": true}},
			"apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: app}\nsecrets: [{name: app-token-x7k2p}, {name: api-token}, {name: registry}]\nimagePullSecrets: [{name: registry}]\n",
			"apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: app}\nsecrets: [{name: registry}]\nimagePullSecrets: [{name: registry}]\n"},
		{"serviceaccount: drops an emptied secrets list", SanitizeOptions{},
			"apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: app}\nsecrets: [{name: app-token-x7k2p}]\n",
			"apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: app}\n"},
		{"namespace: drops spec", SanitizeOptions{},
			"apiVersion: v1\nkind: Namespace\nmetadata: {name: shop, labels: {team: shop}}\nspec: {finalizers: [kubernetes]}\n",
			"apiVersion: v1\nkind: Namespace\nmetadata: {name: shop, labels: {team: shop}}\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := obj(t, tt.in)
			before := in.DeepCopy()
			got, err := SanitizeWith(in, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if want := obj(t, tt.want); !reflect.DeepEqual(got.Object, want.Object) {
				t.Fatalf("got\n%s\nwant\n%s", toJSON(got.Object), toJSON(want.Object))
			}
			if !reflect.DeepEqual(in.Object, before.Object) {
				t.Fatal("Sanitize modified its input")
			}
		})
	}
}

func TestSanitizeErrors(t *testing.T) {
	tests := []struct {
		name, in, wantErr string
	}{
		{"ports not a list", "apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: shop}\nspec: {ports: 80}\n", "sanitize Service shop/web"},
		{"port not an object", "apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: shop}\nspec: {ports: [80]}\n", "spec.ports[0]"},
		{"secrets not a list", "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: app, namespace: shop}\nsecrets: x\n", "sanitize ServiceAccount shop/app"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Sanitize(obj(t, tt.in))
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
	if _, err := Sanitize(nil); err == nil {
		t.Fatal("Sanitize(nil) should fail")
	}
}

// svc returns a Service of type typ with extra spec lines and ports.
func svc(typ string, extra []string, ports ...string) string {
	spec := append([]string{"type: " + typ, "selector: {app: web}", "ports: [" + strings.Join(ports, ", ") + "]"}, extra...)
	return "apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: shop}\nspec:\n  " + strings.Join(spec, "\n  ") + "\n"
}

// deploy returns a Deployment whose pod spec starts with podSpec.
func deploy(podSpec string) string {
	return "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: shop}\nspec:\n  template:\n    spec:\n      " +
		podSpec + "containers: [{name: web, image: web:1}]\n"
}

// pvc returns a claim with extra metadata lines and spec lines.
func pvc(meta, spec string) string {
	return "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: data\n  namespace: shop\n" + meta +
		"spec:\n  " + spec + "accessModes: [ReadWriteOnce]\n"
}

// job returns a Job with extra metadata lines, spec lines and template labels.
func job(meta, spec, templateLabels string) string {
	return "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: j\n  namespace: shop\n" + meta +
		"spec:\n  " + spec + "template:\n    metadata: {labels: " + templateLabels + "}\n    spec: {restartPolicy: Never}\n"
}

func toJSON(v any) string {
	b, _ := json.MarshalIndent(v, "", "  ")
	return string(b)
}
