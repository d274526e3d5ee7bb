package nginx_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/bluegreen/bluegreen/internal/traffic"
	"github.com/bluegreen/bluegreen/internal/traffic/nginx"
)

// The namespace scope's "gateway" section is read strictly through the
// registry, every field checked and named.
func TestNamespaceSection(t *testing.T) {
	n := traffic.NamespaceSwitch{Product: "myapp", Namespaces: map[string]string{"blue": "payments-blue", "green": "payments-green"}}
	valid := `{"router": "nginx", "prodHost": "myapp.com", "preprodHost": "preprod.myapp.com",
		"upstreams": {"blue": {"servers": ["10.0.1.10:80"]}, "green": {"servers": ["10.0.2.10:80"], "host": "green.internal"}},
		"gateways": [{"name": "gw-1", "address": "10.0.0.5:80", "configDir": "/etc/nginx/conf.d"},
		             {"name": "gw-2", "address": "10.0.0.6:80", "configDir": "/etc/nginx/conf.d", "ssh": {"address": "10.0.0.6", "user": "deploy"}}]}`
	tests := []struct {
		name, section, want string
	}{
		{"valid", valid, ""},
		{"unknown field", strings.Replace(valid, `"prodHost"`, `"zoneID": "Z1", "prodHost"`, 1), `unknown field "zoneID"`},
		{"a color missing", strings.Replace(valid, `"blue": {"servers": ["10.0.1.10:80"]}, `, "", 1), "gateway.upstreams.blue: missing"},
		{"a color too many", strings.Replace(valid, `"blue": {`, `"red": {"servers": ["10.0.3.10:80"]}, "blue": {`, 1), "gateway.upstreams.red: not a color"},
		{"gateway without configDir", strings.Replace(valid, `, "configDir": "/etc/nginx/conf.d"}`, `}`, 1), "configDir"},
		{"two gateways of one name", strings.Replace(valid, `"gw-2"`, `"gw-1"`, 1), `name "gw-1" is used twice`},
		{"no gateway", strings.Replace(valid, valid[strings.Index(valid, `"gateways"`):len(valid)-1], `"gateways": []`, 1), "at least one"},
		{"bad upstream server", strings.Replace(valid, "10.0.1.10:80", "10.0.1.10", 1), "is not host:port"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			target, err := traffic.Namespace("nginx", n, []byte(tt.section))
			if tt.want != "" {
				if err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Fatalf("err = %v, want %q", err, tt.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var site nginx.Site
			var gws []nginx.Gateway
			if json.Unmarshal([]byte(target.Options[nginx.OptionSite]), &site) != nil || json.Unmarshal([]byte(target.Options[nginx.OptionGateways]), &gws) != nil {
				t.Fatalf("target options do not decode: %v", target.Options)
			}
			if site.Product != "myapp" || site.Upstreams["green"].Host != "green.internal" || len(gws) != 2 || gws[1].SSH == nil || gws[1].SSH.User != "deploy" {
				t.Fatalf("target = %+v, %+v", site, gws)
			}
		})
	}
	if _, err := traffic.Namespace("route53", n, []byte(valid)); err == nil || !strings.Contains(err.Error(), "want nginx") {
		t.Fatalf("a router without a namespace-scope parser: %v, want an error naming nginx", err)
	}
}
