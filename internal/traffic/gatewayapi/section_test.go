package gatewayapi_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/bluegreen/bluegreen/internal/traffic"
	"github.com/bluegreen/bluegreen/internal/traffic/gatewayapi"
)

var product = traffic.NamespaceSwitch{Product: "payments", Namespaces: map[string]string{"blue": "payments-blue", "green": "payments-green"}}

// validSection is a section every case of the table edits one field of.
func validSection() map[string]any {
	return map[string]any{
		"router": "gateway-api", "prodHost": "myapp.com", "preprodHost": "preprod.myapp.com",
		"routeNamespace": "payments-gateway",
		"parentRefs":     []any{map[string]any{"name": "public", "namespace": "gateway-system", "sectionName": "http"}},
		"rules": []any{
			map[string]any{"pathPrefix": "/payment", "service": "payment", "port": 8080},
			map[string]any{"pathPrefix": "/", "service": "frontend", "port": 80},
		},
		"addresses":     []any{map[string]any{"name": "public", "address": "10.0.0.9:80"}},
		"statusTimeout": "10s",
	}
}

// The namespace scope's "gateway" section is read strictly through the
// registry, every field checked and named in the error with its fix.
func TestSection(t *testing.T) {
	rule := func(i int, k string, v any) func(map[string]any) {
		return func(s map[string]any) { s["rules"].([]any)[i].(map[string]any)[k] = v }
	}
	parent := func(k string, v any) func(map[string]any) {
		return func(s map[string]any) { s["parentRefs"].([]any)[0].(map[string]any)[k] = v }
	}
	set := func(k string, v any) func(map[string]any) { return func(s map[string]any) { s[k] = v } }
	del := func(k string) func(map[string]any) { return func(s map[string]any) { delete(s, k) } }
	tests := []struct {
		name string
		edit func(map[string]any)
		want string
	}{
		{"valid", func(map[string]any) {}, ""},
		{"unknown field", set("zoneID", "Z1"), `unknown field "zoneID"`},
		{"another router's section", set("router", "nginx"), "gateway.router"},
		{"no prodHost", del("prodHost"), "gateway: prodHost: required"},
		{"prodHost not a host", set("prodHost", "my_app.com"), `prodHost "my_app.com": not a host name`},
		{"prodHost a wildcard", set("prodHost", "*.myapp.com"), "prodHost \"*.myapp.com\": a wildcard"},
		{"prodHost an IP", set("prodHost", "10.0.0.1"), "prodHost \"10.0.0.1\": an IP address"},
		{"preprodHost missing", del("preprodHost"), "preprodHost: required"},
		{"preprodHost same as prod", set("preprodHost", "MyApp.com"), "preprodHost \"MyApp.com\": same as prodHost"},
		{"no routeNamespace", del("routeNamespace"), "routeNamespace: required"},
		{"bad routeNamespace", set("routeNamespace", "Payments"), `routeNamespace "Payments": not a namespace name`},
		{"no parentRefs", set("parentRefs", []any{}), "parentRefs: want at least one Gateway"},
		{"parentRef without name", parent("name", ""), "parentRefs[0].name: required"},
		{"parentRef bad name", parent("name", "Public"), `parentRefs[0].name "Public"`},
		{"parentRef bad namespace", parent("namespace", "gw.system"), `parentRefs[0].namespace "gw.system"`},
		{"parentRef bad sectionName", parent("sectionName", "HTTP"), `parentRefs[0].sectionName "HTTP"`},
		{"parentRef twice", set("parentRefs", []any{map[string]any{"name": "public"}, map[string]any{"name": "public", "namespace": "payments-gateway"}}),
			"parentRefs[1]: payments-gateway/public is listed twice"},
		{"no rules", set("rules", []any{}), "rules: want at least one"},
		{"too many rules", set("rules", manyRules(17)), "rules: 17 rules, an HTTPRoute takes at most 16"},
		{"relative path", rule(0, "pathPrefix", "payment"), `rules[0].pathPrefix: "payment": want a path starting with '/'`},
		{"no path", rule(0, "pathPrefix", ""), "rules[0].pathPrefix: required"},
		{"path with //", rule(0, "pathPrefix", "/a//b"), `rules[0].pathPrefix: "/a//b": must not contain "//"`},
		{"path with a space", rule(0, "pathPrefix", "/a b"), `rules[0].pathPrefix: "/a b": want only`},
		{"path ending /..", rule(0, "pathPrefix", "/a/.."), `must not end with "/." or "/.."`},
		{"path twice", rule(1, "pathPrefix", "/payment"), `rules[1].pathPrefix "/payment": used by an earlier rule`},
		{"no service", rule(1, "service", ""), "rules[1].service: required"},
		{"bad service", rule(1, "service", "1frontend"), `rules[1].service "1frontend": not a Service name`},
		{"port 0", rule(0, "port", 0), "rules[0].port 0: want the Service's port, 1 to 65535"},
		{"port too big", rule(0, "port", 70000), "rules[0].port 70000"},
		{"port a string", rule(0, "port", "80"), "gateway: json: cannot unmarshal string"},
		{"address without port", set("addresses", []any{map[string]any{"name": "public", "address": "10.0.0.9"}}), `gateway.addresses[0]: address public "10.0.0.9": want host:port`},
		{"address bad port", set("addresses", []any{map[string]any{"name": "public", "address": "10.0.0.9:0"}}), `port "0": want 1 to 65535`},
		{"address without name", set("addresses", []any{map[string]any{"address": "10.0.0.9:80"}}), "gateway.addresses[0]: name: required"},
		{"address name twice", set("addresses", []any{map[string]any{"name": "a", "address": "10.0.0.9:80"}, map[string]any{"name": "a", "address": "10.0.0.8:80"}}),
			`gateway.addresses[1]: name "a" is used twice`},
		{"negative statusTimeout", set("statusTimeout", "-1s"), "statusTimeout -1s: want a duration from 0s to 10m0s"},
		{"huge statusTimeout", set("statusTimeout", "10h"), "statusTimeout 10h0m0s"},
		{"bad statusTimeout", set("statusTimeout", "soon"), "gateway: duration \"soon\""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sec := validSection()
			tt.edit(sec)
			raw, err := json.Marshal(sec)
			if err != nil {
				t.Fatal(err)
			}
			target, err := traffic.Namespace(gatewayapi.Name, product, raw)
			if tt.want != "" {
				if err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Fatalf("err = %v, want %q", err, tt.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			checkTarget(t, target)
		})
	}
}

func manyRules(n int) []any {
	out := make([]any, n)
	for i := range out {
		out[i] = map[string]any{"pathPrefix": "/p" + string(rune('a'+i)), "service": "frontend", "port": 80}
	}
	return out
}

// checkTarget checks what the valid section gives.
func checkTarget(t *testing.T, target traffic.Target) {
	t.Helper()
	if target.Name != "bluegreen-payments-prod" || target.Namespace != "payments-gateway" {
		t.Errorf("target = %s/%s, want payments-gateway/bluegreen-payments-prod", target.Namespace, target.Name)
	}
	if target.Hosts[traffic.HostProd] != "myapp.com" || target.Hosts[traffic.HostPreprod] != "preprod.myapp.com" {
		t.Errorf("hosts = %v", target.Hosts)
	}
	if len(target.Entrances) != 1 || target.Entrances[0] != (traffic.Entrance{Name: "public", Address: "10.0.0.9:80"}) {
		t.Errorf("entrances = %v", target.Entrances)
	}
	if target.Carriers["blue"] != "namespace payments-blue" || target.Carriers["green"] != "namespace payments-green" {
		t.Errorf("carriers = %v", target.Carriers)
	}
	var cfg gatewayapi.Config
	if err := json.Unmarshal([]byte(target.Options[gatewayapi.OptionConfig]), &cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.StatusTimeout.D() != 10*time.Second || len(cfg.Rules) != 2 || cfg.ParentRefs[0].String() != "gateway-system/public/http" {
		t.Errorf("config = %+v", cfg)
	}
}

// Defaults: a parentRef without a namespace is in the route namespace, and
// the status timeout is DefaultStatusTimeout.
func TestSectionDefaults(t *testing.T) {
	sec := validSection()
	delete(sec, "statusTimeout")
	delete(sec, "addresses")
	sec["parentRefs"] = []any{map[string]any{"name": "public"}}
	raw, err := json.Marshal(sec)
	if err != nil {
		t.Fatal(err)
	}
	target, err := traffic.Namespace(gatewayapi.Name, product, raw)
	if err != nil {
		t.Fatal(err)
	}
	var cfg gatewayapi.Config
	if err := json.Unmarshal([]byte(target.Options[gatewayapi.OptionConfig]), &cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.StatusTimeout.D() != gatewayapi.DefaultStatusTimeout {
		t.Errorf("statusTimeout = %s, want %s", cfg.StatusTimeout, gatewayapi.DefaultStatusTimeout)
	}
	if got := cfg.ParentRefs[0]; got != (gatewayapi.ParentRef{Name: "public", Namespace: "payments-gateway"}) {
		t.Errorf("parentRef = %+v, want it in the route namespace", got)
	}
	if len(target.Entrances) != 0 {
		t.Errorf("entrances = %v, want none", target.Entrances)
	}
}

// What the section cannot say about itself: the product and its
// namespaces come from the rest of the spec, and name the routes.
func TestSectionProduct(t *testing.T) {
	raw, err := json.Marshal(validSection())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		n    traffic.NamespaceSwitch
		want string
	}{
		{"bad product", traffic.NamespaceSwitch{Product: "Payments", Namespaces: product.Namespaces}, `product "Payments"`},
		{"one color", traffic.NamespaceSwitch{Product: "payments", Namespaces: map[string]string{"blue": "payments-blue"}}, "namespaces: want exactly two colors, got 1"},
		{"one namespace for both", traffic.NamespaceSwitch{Product: "payments", Namespaces: map[string]string{"blue": "payments", "green": "payments"}},
			`namespaces.green: namespace "payments" is also blue's`},
		{"bad namespace", traffic.NamespaceSwitch{Product: "payments", Namespaces: map[string]string{"blue": "payments_blue", "green": "payments-green"}},
			`namespaces.blue "payments_blue"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := traffic.Namespace(gatewayapi.Name, tt.n, raw)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

// The router needs a REST config to build its client, and says so.
func TestNewNeedsConfig(t *testing.T) {
	_, err := traffic.New(gatewayapi.Name, traffic.Deps{})
	if err == nil || !strings.Contains(err.Error(), "traffic.Deps.Config") {
		t.Fatalf("err = %v, want one naming traffic.Deps.Config", err)
	}
}
