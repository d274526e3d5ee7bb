package e2e

import (
	"os"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/bluegreen/bluegreen/internal/plan"
	"github.com/bluegreen/bluegreen/internal/traffic/route53"
	"github.com/bluegreen/bluegreen/test/migrationbed"
)

// Bad input fails while planning with exit 2, a message that names the
// object and the fix, and no change in either cluster or in Route 53.
func TestMigrateBadInputChangesNothing(t *testing.T) {
	mg := givenMigration(t, 1, migrationbed.Options{}, migrationbed.SpecOptions{NoStandby: true})
	good := mg.m
	tests := []struct {
		name   string
		change func(m *plan.Migration) error
		args   []string
		env    []string
		want   string
	}{
		{"unknown statefulset", func(m *plan.Migration) error { m.StatefulSets[0].Name = "nosuch"; return nil }, nil, nil, "statefulset shop/nosuch not found"},
		{"falling schedule", nil, []string{"--steps", "50,30,100"}, nil, "rise strictly"},
		{"unknown target context", func(m *plan.Migration) error { m.Target.Context = "nosuch"; return nil }, nil, nil, `no context "nosuch"`},
		{"weighted record without set identifiers", editDNS(func(s *route53.Section) { s.Records[0].Green.SetIdentifier = "" }), nil, nil, "setIdentifier"},
		{"no hosted zone", editDNS(func(s *route53.Section) { s.ZoneID = "" }), nil, nil, "dns.zoneID"},
		{"bad parallelism", nil, []string{"--parallelism", "500"}, nil, "parallelism"},
		{"no AWS credentials", nil, nil, []string{"AWS_ACCESS_KEY_ID=", "AWS_SECRET_ACCESS_KEY=", "AWS_PROFILE="}, "no AWS credentials found for region"},
	}
	before, weights := mg.snapshotA(), mg.weights()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := good
			m.StatefulSets = append([]plan.StatefulSetRef(nil), good.StatefulSets...)
			if tt.change != nil {
				if err := tt.change(&m); err != nil {
					t.Fatal(err)
				}
			}
			if err := migrationbed.WriteSpec(mg.spec, m); err != nil {
				t.Fatal(err)
			}
			r := mg.cli(tt.env, "apply", tt.args...)
			if r.code != 2 || !strings.Contains(r.stderr, tt.want) {
				t.Fatalf("want exit 2 naming %q, got %s", tt.want, r)
			}
		})
	}
	if err := os.WriteFile(mg.spec, []byte("apiVersion: bluegreen.dev/v1alpha1\nkind: Migration\nname: shop\nsource: {context: a}\ntarget: {context: b}\nsurprise: 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if r := mg.cli(nil, "apply"); r.code != 2 || !strings.Contains(r.stderr, `unknown field "surprise"`) {
		t.Fatalf("unknown spec field: %s", r)
	}
	if after := mg.snapshotA(); after != before {
		t.Fatalf("bad input changed A:\nbefore %s\nafter  %s", before, after)
	}
	if w := mg.weights(); w["blue"] != weights["blue"] || w["green"] != weights["green"] {
		t.Fatalf("bad input changed the weights: %v → %v", weights, w)
	}
	if _, err := mg.w.B.Client.CoreV1().Namespaces().Get(t.Context(), "shop", metav1.GetOptions{}); err == nil {
		t.Fatal("bad input created namespace shop in B")
	}
}

// editDNS changes the spec's route53 "dns" section.
func editDNS(edit func(*route53.Section)) func(m *plan.Migration) error {
	return func(m *plan.Migration) (err error) {
		m.DNS, err = migrationbed.EditRoute53(m.DNS, edit)
		return err
	}
}
