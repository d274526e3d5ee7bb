package preflight

import (
	"fmt"
	"testing"

	"github.com/bluegreen/bluegreen/internal/traffic"
	_ "github.com/bluegreen/bluegreen/internal/traffic/all" // the Route 53 router
)

// record-values fails, before anything is written, when the spec gives a
// weighted record set another value than the live one, naming both; it
// passes when they agree and when no router writes values.
func TestRecordValues(t *testing.T) {
	target := func(t *testing.T, zone, green string) traffic.Target {
		targets, err := traffic.Records("", []byte(fmt.Sprintf(`{"zoneID": %q, "records": [{"name": %q,
			"blue": {"setIdentifier": "blue", "value": "blue-web.example.net"}, "green": {"setIdentifier": "green", "value": %q}}]}`,
			zone, appRecord, green)))
		if err != nil {
			t.Fatal(err)
		}
		return targets[0]
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
				r, err := traffic.New(traffic.ClusterDefault(), traffic.Deps{Route53: in.AWS.Route53})
				if err != nil {
					t.Fatal(err)
				}
				in.Values, _ = r.(traffic.Verifier)
				in.Targets = []traffic.Target{target(t, in.Records[0].ZoneID, tt.green)}
			}
			wantResult(t, runCheck(t, "record-values", in), tt.status, tt.detail, nil)
		})
	}
}
