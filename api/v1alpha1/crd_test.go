//go:build testbed

package v1alpha1_test

import (
	"os"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"sigs.k8s.io/yaml"

	"github.com/bluegreen/bluegreen/test/testbed"
)

var releases = schema.GroupVersionResource{Group: "bluegreen.dev", Version: "v1alpha1", Resource: "bluegreenreleases"}

// The shipped CRD, on a real API server: a full release is admitted with
// its defaults filled in; each mistake is refused by the schema or a CEL
// rule, with a message that says what to fix.
func TestReleaseCRDValidates(t *testing.T) {
	ctx := t.Context()
	c := testbed.StartT(t, testbed.Options{Name: "api-crd"})
	dyn, err := dynamic.NewForConfig(c.Config)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile("../../deploy/crds/bluegreen.dev_bluegreenreleases.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := testbed.ApplyCRD(ctx, dyn, data); err != nil {
		t.Fatal(err)
	}

	good := `
spec:
  image: registry.example.com/shop:1.4.2
  previewURL: http://shop-preview.default.svc
  checks:
  - name: healthz
    http: {url: /healthz, expectStatus: 200, interval: 2s}
  - name: load
    webhook: {urlFrom: {name: shop-hooks, key: load-test}}
  watchWindow: 2m
  scaleDownDelay: 10m
  keepWarm: 1
`
	u := release(t, "shop", good)
	got, err := dyn.Resource(releases).Namespace("default").Create(ctx, u, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("a full release is refused: %v", err)
	}
	for path, want := range map[string]string{"colorLabel": "track", "approval": "Auto", "rolloutTimeout": "5m"} {
		if v, _, _ := unstructured.NestedString(got.Object, "spec", path); v != want {
			t.Errorf("spec.%s defaulted to %q, want %q", path, v, want)
		}
	}

	for _, tc := range []struct {
		name, spec, want string
	}{
		{"no image", "spec: {previewURL: http://x}", "spec.image: Required value"},
		{"image with a space", "spec: {image: 'shop 1.0'}", "an image reference has no spaces"},
		{"unknown approval", "spec: {image: shop:1, approval: Sometimes}", `Unsupported value: "Sometimes"`},
		{"keepWarm without a delay", "spec: {image: shop:1, keepWarm: 1}", "keepWarm needs scaleDownDelay"},
		{"negative keepWarm", "spec: {image: shop:1, keepWarm: -1, scaleDownDelay: 1m}", "should be greater than or equal to 0"},
		{"watch window without checks", "spec: {image: shop:1, watchWindow: 1m}", "watchWindow re-runs the checks"},
		{"check of no kind", "spec: {image: shop:1, checks: [{name: a}]}", "set exactly one of http and webhook"},
		{"check of two kinds", "spec: {image: shop:1, checks: [{name: a, http: {url: /x}, webhook: {urlFrom: {name: s, key: k}}}]}", "set exactly one of http and webhook"},
		{"check url neither path nor http", "spec: {image: shop:1, checks: [{name: a, http: {url: 'ftp://x'}}]}", "want a /path or an absolute http(s) URL"},
		{"two checks of one name", "spec: {image: shop:1, checks: [{name: a, http: {url: /x}}, {name: a, http: {url: /y}}]}", "Duplicate value"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := dyn.Resource(releases).Namespace("default").Create(ctx, release(t, "bad", tc.spec), metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v; want it to say %q", err, tc.want)
			}
		})
	}
	long := strings.Repeat("a", 53)
	if _, err := dyn.Resource(releases).Namespace("default").Create(ctx, release(t, long, "spec: {image: shop:1}"), metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}}); err == nil ||
		!strings.Contains(err.Error(), "at most 52 characters") {
		t.Fatalf("a 53-character app name: %v", err)
	}
}

func release(t *testing.T, name, spec string) *unstructured.Unstructured {
	t.Helper()
	u := &unstructured.Unstructured{}
	if err := yaml.Unmarshal([]byte(spec), &u.Object); err != nil {
		t.Fatal(err)
	}
	u.SetAPIVersion("bluegreen.dev/v1alpha1")
	u.SetKind("BlueGreenRelease")
	u.SetName(name)
	return u
}
