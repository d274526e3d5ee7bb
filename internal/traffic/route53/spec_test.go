package route53_test

import (
	"strings"
	"testing"
	"time"

	"github.com/bluegreen/bluegreen/internal/traffic"
	"github.com/bluegreen/bluegreen/internal/traffic/route53"
)

// The router parses its own "dns" section: defaults, the options Shift
// reads, what each color's share is carried by, and how long a shift takes
// to settle in resolvers.
func TestRecordsParsesTheDNSSection(t *testing.T) {
	tests := []struct {
		name       string
		section    string
		wantOpts   map[string]string
		wantSettle time.Duration
		wantErr    string
	}{
		{"defaults", `{"zoneID":"Z1","records":[{"name":"shop.example.com",
			"blue":{"setIdentifier":"a","value":"a.elb.example.com"},"green":{"setIdentifier":"b","value":"b.elb.example.com"}}]}`,
			map[string]string{route53.TypeOption: "CNAME", route53.TTLOption: "60", route53.SyncTimeoutOption: "2m0s",
				"blue.value": "a.elb.example.com", "green.set-identifier": "b"}, 60 * time.Second, ""},
		{"alias records take their target's TTL", `{"router":"route53","zoneID":"Z1","syncTimeout":"30s","records":[{"name":"shop.example.com","type":"A",
			"blue":{"setIdentifier":"a","alias":"a.elb.example.com","aliasZone":"ZELB"},"green":{"setIdentifier":"b","alias":"b.elb.example.com","aliasZone":"ZELB"}}]}`,
			map[string]string{route53.TypeOption: "A", route53.SyncTimeoutOption: "30s", "green.alias-zone": "ZELB"}, traffic.AliasSettle, ""},
		{"long TTL", `{"zoneID":"Z1","records":[{"name":"shop.example.com","ttl":300,
			"blue":{"setIdentifier":"a","value":"a.example.com"},"green":{"setIdentifier":"b","value":"b.example.com"}}]}`,
			map[string]string{route53.TTLOption: "300"}, 300 * time.Second, ""},
		{"no zone", `{"records":[]}`, nil, 0, "dns.zoneID is required"},
		{"a field of another router", `{"zoneID":"Z1","records":[{"name":"shop.example.com",
			"blue":{"setIdentifier":"a","object":"service/shop/web"},"green":{"setIdentifier":"b","value":"b.example.com"}}]}`, nil, 0, `unknown field "object"`},
		{"value and alias", `{"zoneID":"Z1","records":[{"name":"shop.example.com",
			"blue":{"setIdentifier":"a","value":"a.example.com","alias":"a.elb.example.com","aliasZone":"Z"},"green":{"setIdentifier":"b","value":"b.example.com"}}]}`,
			nil, 0, "dns.records[0] shop.example.com"},
		{"bad sync timeout", `{"zoneID":"Z1","syncTimeout":"soon","records":[]}`, nil, 0, `duration "soon"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			targets, err := traffic.Records(route53.Name, []byte(tt.section))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || len(targets) != 1 {
				t.Fatalf("Records = %v, %v; want one target", targets, err)
			}
			got := targets[0]
			for k, v := range tt.wantOpts {
				if got.Options[k] != v {
					t.Errorf("option %s = %q, want %q (all: %v)", k, got.Options[k], v, got.Options)
				}
			}
			if got.Settle != tt.wantSettle {
				t.Errorf("Settle = %s, want %s", got.Settle, tt.wantSettle)
			}
			if got.Carriers["blue"] != "a" || got.Carriers["green"] != "b" {
				t.Errorf("Carriers = %v, want blue a, green b", got.Carriers)
			}
			if _, err := route53.ParseOptions(got); err != nil {
				t.Errorf("the router refuses its own target: %v", err)
			}
		})
	}
}
