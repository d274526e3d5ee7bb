package run

import (
	"encoding/json"
	"strings"

	"github.com/bluegreen/bluegreen/internal/check"
	"github.com/bluegreen/bluegreen/internal/journal"
	"github.com/bluegreen/bluegreen/internal/plan"
	"github.com/bluegreen/bluegreen/internal/redact"
)

// Secrets collects every secret a run knows of, besides known (e.g. the
// notification webhook URLs): check webhook URLs, check headers,
// secret-looking env values, env values that are URLs (a DSN with a
// password), and the credentials and query values of the preview, active
// and check URLs. They are redacted from every output.
func Secrets(r *journal.Run, known ...string) *redact.Secrets {
	s := redact.NewSecrets(known...)
	// A service-scope release, or a namespace-scope one: the product's
	// checks, and each service's env and checks.
	var rel struct {
		plan.ServiceRelease
		Services []struct {
			Env    map[string]string `json:"env"`
			Checks []check.Spec      `json:"checks"`
		} `json:"services"`
	}
	if r == nil || json.Unmarshal(r.Spec, &rel) != nil {
		return s
	}
	addEnv(s, rel.Env)
	s.AddURL(rel.PreviewURL)
	s.AddURL(rel.ActiveURL)
	addChecks(s, rel.Checks)
	for _, svc := range rel.Services {
		addEnv(s, svc.Env)
		addChecks(s, svc.Checks)
	}
	return s
}

func addEnv(s *redact.Secrets, env map[string]string) {
	for k, v := range env {
		if redact.IsSecretKey(k) || strings.Contains(v, "://") {
			s.Add(v)
		}
	}
}

func addChecks(s *redact.Secrets, checks []check.Spec) {
	for _, c := range checks {
		if c.Webhook != nil {
			s.Add(c.Webhook.URL)
			for _, v := range c.Webhook.Headers {
				s.Add(v)
			}
		}
		if c.HTTP != nil {
			s.AddURL(c.HTTP.URL)
			for _, v := range c.HTTP.Headers {
				s.Add(v)
			}
		}
	}
}

// MaskEnvValues masks the value of every {"name": K, "value": V} pair (a
// container's env entry): a before-state goes to the audit log without any
// env value, since a value under an innocent name (DB_URL) can still hold a
// password.
func MaskEnvValues(raw json.RawMessage) json.RawMessage {
	if len(raw) == 0 {
		return raw
	}
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return raw
	}
	var walk func(any)
	walk = func(x any) {
		switch t := x.(type) {
		case map[string]any:
			if _, ok := t["name"].(string); ok {
				if _, has := t["value"]; has {
					t["value"] = redact.Mask
				}
			}
			for _, c := range t {
				walk(c)
			}
		case []any:
			for _, c := range t {
				walk(c)
			}
		}
	}
	walk(v)
	out, err := json.Marshal(v)
	if err != nil {
		return raw
	}
	return out
}
