package preflight

import (
	"testing"

	"github.com/bluegreen/bluegreen/internal/traffic"
	"github.com/bluegreen/bluegreen/internal/traffic/route53"
)

// record-values fails, before anything is written, when the spec gives a
// weighted record set another value than the live one, naming both; it
// passes when they agree and when no router writes values.
func TestRecordValues(t *testing.T) {
	target := func(zone, green string) traffic.Target {
		return traffic.Target{Name: appRecord, Options: map[string]string{route53.ZoneOption: zone,
			"blue.set-identifier": "blue", "blue.value": "blue-web.example.net", "green.set-identifier": "green", "green.value": green}}
	}
	tests := []struct {
		name   string
		green  string // "" = no targets
		status Status
		detail []string
	}{
		{"same values", "green-web.example.net", Pass, []string{"hold the spec's values"}},
		{"typo in the spec", "green-web.example.org", Fail, []string{"green-web.example.net", "green-web.example.org"}},
		{"no router writing values", "", Pass, []string{"no records"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, in := world{}.start(t)
			if tt.green != "" {
				in.Values = route53.New(in.AWS.Route53)
				in.Targets = []traffic.Target{target(in.Records[0].ZoneID, tt.green)}
			}
			wantResult(t, runCheck(t, "record-values", in), tt.status, tt.detail, nil)
		})
	}
}
