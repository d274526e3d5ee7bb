package run

import (
	"encoding/json"
	"testing"

	"github.com/bluegreen/bluegreen/internal/check"
	"github.com/bluegreen/bluegreen/internal/journal"
	"github.com/bluegreen/bluegreen/internal/plan"
)

// Every secret of a release's spec is redacted from output, at service
// scope and at namespace scope (where each service has env and checks).
func TestSecretsOfEveryScope(t *testing.T) {
	svc := plan.ServiceRelease{App: "shop", Env: map[string]string{"DB_PASSWORD": "svc-pass", "LOG_LEVEL": "debug"},
		Checks: []check.Spec{{Name: "hook", Webhook: &check.WebhookConfig{URL: "https://hooks.example.com/svc-hook-token"}}}}
	ns := plan.NamespaceRelease{Kind: plan.NamespaceKind, Product: "payments",
		Checks: []check.Spec{{Name: "api", HTTP: &check.HTTPConfig{URL: "/api", Headers: map[string]string{"Authorization": "Bearer product-token"}}}},
		Services: []plan.NamespaceService{{Name: "payment", Env: map[string]string{"API_TOKEN": "service-token", "DB_URL": "postgres://u:dsn-pass@db/x"},
			Checks: []check.Spec{{Name: "gate", Webhook: &check.WebhookConfig{URL: "https://hooks.example.com/ns-hook-token", Headers: map[string]string{"X-Key": "hook-key"}}}}}}}
	for _, tc := range []struct {
		name    string
		spec    any
		secrets []string
		kept    string
	}{
		{"service scope", svc, []string{"svc-pass", "svc-hook-token"}, "debug"},
		{"namespace scope", ns, []string{"product-token", "service-token", "dsn-pass", "ns-hook-token", "hook-key"}, "payment"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			raw, err := json.Marshal(tc.spec)
			if err != nil {
				t.Fatal(err)
			}
			s := Secrets(&journal.Run{Spec: raw})
			for _, v := range tc.secrets {
				if got := s.String("value " + v + " end"); got == "value "+v+" end" {
					t.Errorf("secret %q is not redacted: %q", v, got)
				}
			}
			if got := s.String(tc.kept); got != tc.kept {
				t.Errorf("%q is no secret but became %q", tc.kept, got)
			}
		})
	}
}
