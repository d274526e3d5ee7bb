package route53_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/route53/types"

	"github.com/bluegreen/bluegreen/test/awsfake"
)

// Mismatches names every color whose live record set differs from the
// configuration in what Shift would overwrite besides the weight — value,
// alias target, or the kind of record — and nothing for the same value
// written in another case or with a trailing dot.
func TestMismatchesNameWhatAShiftWouldOverwrite(t *testing.T) {
	alias := func(id, dns, zone string) types.ResourceRecordSet {
		return types.ResourceRecordSet{Name: aws.String(record), Type: types.RRTypeCname, SetIdentifier: aws.String(id), Weight: aws.Int64(0),
			AliasTarget: &types.AliasTarget{DNSName: aws.String(dns), HostedZoneId: aws.String(zone)}}
	}
	tests := []struct {
		name  string
		green types.ResourceRecordSet
		extra map[string]string
		want  []string // substrings of the one mismatch; nil for none
	}{
		{"same", cname("cluster-b", 0, greenLB), nil, nil},
		{"same, other case and trailing dot", cname("cluster-b", 0, strings.ToUpper(greenLB)+"."), nil, nil},
		{"other value", cname("cluster-b", 0, "typo.example.net"), nil, []string{"green", "typo.example.net", greenLB}},
		{"alias live, value configured", alias("cluster-b", "b-alb.example.net", "Z35SXDOTRQ7X7K"), nil, []string{"alias of b-alb.example.net"}},
		{"other alias zone", alias("cluster-b", "b-alb.example.net", "ZOTHER"),
			map[string]string{"green.value": "", "green.alias": "b-alb.example.net", "green.alias-zone": "Z35SXDOTRQ7X7K"}, []string{"ZOTHER", "Z35SXDOTRQ7X7K"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, awsfake.Options{})
			e.upsert(t, cname("cluster-a", 100, blueLB), tt.green)
			got, err := e.router.Mismatches(context.Background(), e.target(tt.extra))
			if err != nil {
				t.Fatal(err)
			}
			if tt.want == nil {
				if len(got) != 0 {
					t.Fatalf("mismatches %v, want none", got)
				}
				return
			}
			if len(got) != 1 {
				t.Fatalf("mismatches %v, want one", got)
			}
			for _, w := range tt.want {
				if !strings.Contains(got[0], w) {
					t.Fatalf("mismatch %q lacks %q", got[0], w)
				}
			}
		})
	}
}
