package externaldns_test

import (
	"strings"
	"testing"
	"time"

	"github.com/bluegreen/bluegreen/internal/traffic"
	"github.com/bluegreen/bluegreen/internal/traffic/externaldns"
)

// The router parses its own "dns" section and refuses what it cannot use,
// naming the field.
func TestRecordsParsesTheDNSSection(t *testing.T) {
	tests := []struct {
		name    string
		section string
		wantErr string
	}{
		{"objects per color", `{"router": "external-dns", "records": [{"name": "shop.example.com",
			"blue": {"setIdentifier": "a", "object": "service/shop/web"}, "green": {"setIdentifier": "b", "object": "ingress/shop/web"}}]}`, ""},
		{"no object", `{"router": "external-dns", "records": [{"name": "shop.example.com",
			"blue": {"setIdentifier": "a"}, "green": {"setIdentifier": "b"}}]}`, "object is required"},
		{"a field of the route53 router", `{"router": "external-dns", "zoneID": "Z1", "records": []}`, `unknown field "zoneID"`},
		{"bad object", `{"router": "external-dns", "records": [{"name": "shop.example.com",
			"blue": {"setIdentifier": "a", "object": "deployment/shop/web"}, "green": {"setIdentifier": "b", "object": "service/shop/web"}}]}`,
			"dns.records[0] shop.example.com"},
		{"same set identifiers", `{"router": "external-dns", "records": [{"name": "shop.example.com",
			"blue": {"setIdentifier": "a", "object": "service/shop/web"}, "green": {"setIdentifier": "a", "object": "service/shop/web"}}]}`,
			"must differ"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			targets, err := traffic.Records(externaldns.Name, []byte(tt.section))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || len(targets) != 1 {
				t.Fatalf("Records = %v, %v; want one target", targets, err)
			}
			cfg, err := externaldns.ParseOptions(targets[0])
			if err != nil {
				t.Fatalf("the router refuses its own target: %v", err)
			}
			if got := cfg.Objects["green"].Object.String(); got != "ingress/shop/web" {
				t.Errorf("green object = %s, want ingress/shop/web", got)
			}
			if targets[0].Settle != 60*time.Second || targets[0].Carriers["green"] != "b" {
				t.Errorf("Settle %s, Carriers %v: want the default TTL 60s and green carried by b", targets[0].Settle, targets[0].Carriers)
			}
		})
	}
}
