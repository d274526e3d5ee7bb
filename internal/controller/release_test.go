package controller

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/bluegreen/bluegreen/api/v1alpha1"
	"github.com/bluegreen/bluegreen/internal/plan"
)

// A BlueGreenRelease is the release `bluegreen deploy` would get: the
// name is the app, Manual approval pauses, the checks' secrets come from
// the Secrets named, and every mistake names the check and the Secret.
func TestReleaseOf(t *testing.T) {
	secrets := map[string]map[string]string{
		"shop-hooks":   {"load-test": "https://hooks.example.com/run?token=s3cret"},
		"shop-headers": {"Authorization": "Bearer t0ken"},
	}
	read := func(_ context.Context, name string) (map[string]string, error) {
		if d, ok := secrets[name]; ok {
			return d, nil
		}
		return nil, errors.New("not found")
	}
	obj := func(mut func(*v1alpha1.BlueGreenReleaseSpec)) *v1alpha1.BlueGreenRelease {
		o := &v1alpha1.BlueGreenRelease{ObjectMeta: metav1.ObjectMeta{Name: "shop", Namespace: "prod"},
			Spec: v1alpha1.BlueGreenReleaseSpec{Image: "registry.example.com/shop:2.0.0", PreviewURL: "http://shop-preview.prod.svc",
				ScaleDownDelay: &metav1.Duration{Duration: 10 * time.Minute}, KeepWarm: new(int32(1)),
				Checks: []v1alpha1.Check{
					{Name: "healthz", HTTP: &v1alpha1.HTTPCheck{URL: "/healthz", ExpectStatus: 200, HeadersFrom: &v1alpha1.LocalSecretReference{Name: "shop-headers"}}},
					{Name: "load", Webhook: &v1alpha1.WebhookCheck{URLFrom: v1alpha1.SecretKeyReference{Name: "shop-hooks", Key: "load-test"}}},
				}}}
		if mut != nil {
			mut(&o.Spec)
		}
		return o
	}

	rel, err := ReleaseOf(t.Context(), obj(nil), read)
	if err != nil {
		t.Fatal(err)
	}
	if rel.App != "shop" || rel.Namespace != "prod" || rel.Approval != "auto" || rel.ActiveService != "shop" || rel.PreviewService != "shop-preview" ||
		rel.ColorLabel != "track" || rel.ScaleDownDelay != plan.Duration(10*time.Minute) || *rel.KeepWarm != 1 || rel.RolloutTimeout == 0 {
		t.Fatalf("release: %+v", rel)
	}
	if len(rel.Checks) != 2 || rel.Checks[0].HTTP.Headers["Authorization"] != "Bearer t0ken" || rel.Checks[1].Webhook.URL != secrets["shop-hooks"]["load-test"] {
		t.Fatalf("checks: %+v", rel.Checks)
	}
	manual, err := ReleaseOf(t.Context(), obj(func(s *v1alpha1.BlueGreenReleaseSpec) { s.Approval = v1alpha1.ApprovalManual }), read)
	if err != nil || manual.Approval != "pause" {
		t.Fatalf("Manual approval: %q, %v; want pause", manual.Approval, err)
	}

	for _, tc := range []struct {
		name string
		mut  func(*v1alpha1.BlueGreenReleaseSpec)
		want string
	}{
		{"missing Secret", func(s *v1alpha1.BlueGreenReleaseSpec) { s.Checks[1].Webhook.URLFrom.Name = "gone" }, `check "load": urlFrom Secret gone: not found`},
		{"missing key", func(s *v1alpha1.BlueGreenReleaseSpec) { s.Checks[1].Webhook.URLFrom.Key = "nope" }, `Secret shop-hooks has no key "nope" (it has [load-test])`},
		{"missing headers Secret", func(s *v1alpha1.BlueGreenReleaseSpec) { s.Checks[0].HTTP.HeadersFrom.Name = "gone" }, `check "healthz": headersFrom Secret gone`},
		{"no kind", func(s *v1alpha1.BlueGreenReleaseSpec) { s.Checks[0].HTTP = nil }, "set exactly one of http and webhook"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReleaseOf(t.Context(), obj(tc.mut), read)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "BlueGreenRelease prod/shop") {
				t.Fatalf("err = %v; want it to name the release and say %q", err, tc.want)
			}
		})
	}
}
