package apiscan

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// readTestdata returns the fixture files by base name.
func readTestdata(t *testing.T, names ...string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	for _, name := range names {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		files[name] = data
	}
	return files
}

func TestScanManifestsByTarget(t *testing.T) {
	files := readTestdata(t, "legacy.yaml", "list.json")
	// Each entry is "<source> <kind> <namespace/name> <apiVersion> <removedIn>",
	// in file name order.
	var (
		deploy  = "legacy.yaml#0 Deployment shop/web extensions/v1beta1 1.16"
		ingress = "legacy.yaml#1 Ingress shop/web networking.k8s.io/v1beta1 1.22"
		psp     = "legacy.yaml#2 PodSecurityPolicy /restricted policy/v1beta1 1.25"
		cronjob = "legacy.yaml#4 CronJob shop/report batch/v1beta1 1.25"
		hpa     = "legacy.yaml#5 HorizontalPodAutoscaler shop/web autoscaling/v2beta2 1.26"
		ds      = "list.json#0 items[0] DaemonSet kube-system/log-agent apps/v1beta2 1.16"
		pdb     = "list.json#0 items[2] PodDisruptionBudget shop/web policy/v1beta1 1.25"
		flow    = "list.json#0 items[3] FlowSchema /batch-jobs flowcontrol.apiserver.k8s.io/v1beta3 1.32"
		by116   = []string{deploy, ds}
		by122   = []string{deploy, ingress, ds}
		by125   = []string{deploy, ingress, psp, cronjob, ds, pdb}
		by126   = []string{deploy, ingress, psp, cronjob, hpa, ds, pdb}
		by132   = []string{deploy, ingress, psp, cronjob, hpa, ds, pdb, flow}
	)
	tests := []struct {
		target string
		want   []string
	}{
		{"1.15", nil},
		{"1.16", by116},
		{"v1.21.14", by116},
		{"1.22", by122},
		{"1.25", by125},
		{"1.26", by126},
		{"1.31", by126},
		{"1.32", by132},
		{"v1.33.0-eks-1234", by132},
		{"1.34", by132},
	}
	for _, tt := range tests {
		t.Run(tt.target, func(t *testing.T) {
			findings, err := ScanManifests(tt.target, files)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, f := range findings {
				got = append(got, strings.Join([]string{f.Source, f.Kind, f.Namespace + "/" + f.Name, f.Removal.APIVersion, f.Removal.RemovedIn}, " "))
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("target %s:\n got  %q\n want %q", tt.target, got, tt.want)
			}
		})
	}
}

func TestScanManifestsFinding(t *testing.T) {
	findings, err := ScanManifests("1.33", readTestdata(t, "legacy.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var ing Finding
	for _, f := range findings {
		if f.Kind == "Ingress" {
			ing = f
		}
	}
	want := Finding{
		Source: "legacy.yaml#1", File: "legacy.yaml", Document: 1, Item: -1,
		Kind: "Ingress", Namespace: "shop", Name: "web",
	}
	got := ing
	got.Removal = Removal{}
	if got != want {
		t.Fatalf("Ingress finding = %+v, want %+v", got, want)
	}
	if ing.Removal.Replacement != "networking.k8s.io/v1" || !strings.Contains(ing.Removal.Note, "defaultBackend") {
		t.Errorf("Ingress removal = %+v, want networking.k8s.io/v1 with a note on the backend shape", ing.Removal)
	}
	wantLine := "legacy.yaml#1: Ingress shop/web uses networking.k8s.io/v1beta1, removed in 1.22; use networking.k8s.io/v1"
	if s := ing.String(); s != wantLine {
		t.Errorf("String() = %q, want %q", s, wantLine)
	}
}

func TestScanManifestsFormats(t *testing.T) {
	tests := []struct {
		name    string
		content string
		want    []string // sources
	}{
		{
			name:    "no separator",
			content: "apiVersion: batch/v1beta1\nkind: CronJob\nmetadata: {name: a}\n",
			want:    []string{"f#0"},
		},
		{
			name:    "empty documents count",
			content: "---\n---\n\n---\napiVersion: batch/v1beta1\nkind: CronJob\nmetadata: {name: a}\n...\n",
			want:    []string{"f#2"},
		},
		{
			name:    "separator with comment, CRLF",
			content: "apiVersion: v1\r\nkind: ConfigMap\r\nmetadata: {name: a}\r\n--- # next\r\napiVersion: batch/v1beta1\r\nkind: CronJob\r\nmetadata: {name: b}\r\n",
			want:    []string{"f#1"},
		},
		{
			name:    "three dashes inside a block scalar are not a separator",
			content: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata:\n  x: |\n    ---x\n---\napiVersion: batch/v1beta1\nkind: CronJob\nmetadata: {name: b}\n",
			want:    []string{"f#1"},
		},
		{
			name:    "json stream",
			content: `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a"}} {"apiVersion":"batch/v1beta1","kind":"CronJob","metadata":{"name":"b"}}`,
			want:    []string{"f#1"},
		},
		{
			name:    "typed list items inherit apiVersion and kind",
			content: `{"apiVersion":"batch/v1beta1","kind":"CronJobList","items":[{"metadata":{"name":"a"}},{"metadata":{"name":"b"}}]}`,
			want:    []string{"f#0 items[0]", "f#0 items[1]"},
		},
		{
			name:    "nested list",
			content: "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: List\n  items:\n  - {apiVersion: batch/v1beta1, kind: CronJob, metadata: {name: a}}\n",
			want:    []string{"f#0 items[0]"},
		},
		{
			name:    "empty file",
			content: "",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			findings, err := ScanManifests("1.33", map[string][]byte{"f": []byte(tt.content)})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, f := range findings {
				got = append(got, f.Source)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("sources = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestScanManifestsErrors(t *testing.T) {
	tests := []struct {
		name, target, content, wantErr string
	}{
		{"bad target", "one.two", "", `kubernetes version "one.two"`},
		{"malformed yaml", "1.33", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\nkind: [unclosed\n", "parse manifest bad.yaml document 1"},
		{"not a mapping", "1.33", "- a\n- b\n", "parse manifest bad.yaml document 0"},
		{"no kind", "1.33", "---\napiVersion: v1\nmetadata: {name: a}\n", "manifest bad.yaml document 0: not a Kubernetes object"},
		{"list item not an object", "1.33", "apiVersion: v1\nkind: List\nitems: [3]\n", "manifest bad.yaml document 0: List items[0]: not an object"},
		{"list item without kind", "1.33", "apiVersion: v1\nkind: List\nitems: [{apiVersion: v1}]\n", "List items[0]: not a Kubernetes object"},
		{"broken json stream", "1.33", `{"apiVersion":"v1","kind":"ConfigMap"} {"apiVersion":`, "read manifest bad.yaml: document 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ScanManifests(tt.target, map[string][]byte{"bad.yaml": []byte(tt.content)})
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}
