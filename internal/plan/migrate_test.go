package plan

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	_ "github.com/bluegreen/bluegreen/internal/traffic/all" // the routers parse the dns sections
)

// shopDNS is a dns section for the default (Route 53) router.
const shopDNS = `{"zoneID": "Z1", "records": [{"name": "shop.example.com",
	"blue": {"setIdentifier": "a", "value": "a-lb.example.com"}, "green": {"setIdentifier": "b", "value": "b-lb.example.com"}}]}`

// dnsSection reads a dns section as a spec file would.
func dnsSection(js string) DNS {
	var d DNS
	if err := json.Unmarshal([]byte(js), &d); err != nil {
		panic(err)
	}
	return d
}

// editDNS changes m's dns section as a generic document: records are
// []any of map[string]any, as JSON decodes them.
func editDNS(m *Migration, edit func(section map[string]any, records []any)) {
	var s map[string]any
	if err := json.Unmarshal(m.DNS.Section, &s); err != nil {
		panic(err)
	}
	recs, _ := s["records"].([]any)
	edit(s, recs)
	b, err := json.Marshal(s)
	if err != nil {
		panic(err)
	}
	router := m.DNS.Router
	m.DNS = dnsSection(string(b))
	m.DNS.Router = router
}

// field returns the map at path in a decoded JSON document.
func field(v any, path ...string) map[string]any {
	m, _ := v.(map[string]any)
	for _, p := range path {
		m, _ = m[p].(map[string]any)
	}
	return m
}

func validMigration() Migration {
	m := Migration{
		APIVersion: MigrationAPIVersion, Kind: MigrationKind, Name: "shop-133",
		Source: ClusterRef{Context: "a"}, Target: ClusterRef{Context: "b", LoadBalancers: []string{"b-web"}},
		StatefulSets: []StatefulSetRef{{Namespace: "shop", Name: "db",
			CNAME: &CNAME{ZoneID: "ZINT", Name: "db.internal.example.com", Blue: "db.a.example.com", Green: "db.b.example.com"}}},
		DNS: dnsSection(shopDNS),
	}
	m.Defaults()
	return m
}

func observedDB() MigrationObserved {
	return MigrationObserved{TargetZones: []string{"us-east-1a"}, StatefulSets: []StatefulSetObserved{{
		Namespace: "shop", Name: "db", Replicas: 1,
		Claims: []ClaimObserved{{PVC: "data-db-0", PV: "pvc-1", VolumeID: "vol-0123456789abcdef0", Zone: "us-east-1a",
			Capacity: "10Gi", ReclaimPolicy: "Delete", StorageClass: "gp3", AccessModes: []string{"ReadWriteOnce"}}},
	}}}
}

func TestMigrationPlanReadsLikeTheRunbook(t *testing.T) {
	steps, err := MigrationPlan(observedDB(), validMigration())
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range steps {
		names = append(names, s.Name)
	}
	want := []string{
		"handoff/shop/db/retain", "handoff/shop/db/snapshot", "handoff/shop/db/scale-source", "handoff/shop/db/wait-detached",
		"handoff/shop/db/tag", "handoff/shop/db/release-claims", "handoff/shop/db/static-pv", "handoff/shop/db/apply-target",
		"handoff/shop/db/verify-attached", "handoff/shop/db/cname",
		"shift-10", "shift-30", "shift-50", "shift-70", "shift-90", "shift-100", "verify",
	}
	if strings.Join(names, " ") != strings.Join(want, " ") {
		t.Fatalf("steps:\n got %v\nwant %v", names, want)
	}
	for _, s := range steps[:10] {
		if s.Lane != "shop/db" {
			t.Fatalf("step %s lane %q, want shop/db", s.Name, s.Lane)
		}
	}
	if steps[0].Mutations[0].Change != "persistentVolumeReclaimPolicy Delete → Retain (in a)" {
		t.Fatalf("retain mutation: %+v", steps[0].Mutations)
	}
}

func TestMigrationPlanRejectsBadInput(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Migration, *MigrationObserved)
		want   string
	}{
		{"wrong kind", func(m *Migration, _ *MigrationObserved) { m.Kind = "Release" }, "kind"},
		{"same cluster", func(m *Migration, _ *MigrationObserved) { m.Target = m.Source }, "same cluster"},
		{"steps not ending at 100", func(m *Migration, _ *MigrationObserved) { m.Steps = []int{10, 50} }, "must end at 100"},
		{"steps falling", func(m *Migration, _ *MigrationObserved) { m.Steps = []int{50, 30, 100} }, "rise strictly"},
		{"no records", func(m *Migration, _ *MigrationObserved) {
			editDNS(m, func(s map[string]any, _ []any) { delete(s, "records") })
		}, "dns.records is empty"},
		{"same set identifiers", func(m *Migration, _ *MigrationObserved) {
			editDNS(m, func(_ map[string]any, recs []any) { field(recs[0], "green")["setIdentifier"] = "a" })
		}, "must differ"},
		{"no zone", func(m *Migration, _ *MigrationObserved) {
			editDNS(m, func(s map[string]any, _ []any) { delete(s, "zoneID") })
		}, "dns.zoneID"},
		{"unknown router", func(m *Migration, _ *MigrationObserved) { m.DNS.Router = "istio" }, `dns.router "istio": want external-dns or route53`},
		{"service router between clusters", func(m *Migration, _ *MigrationObserved) { m.DNS.Router = "service-selector" }, "want external-dns or route53"},
		{"statefulset missing in A", func(_ *Migration, o *MigrationObserved) { o.StatefulSets = nil }, "not found in a"},
		{"statefulset already in B", func(_ *Migration, o *MigrationObserved) { o.StatefulSets[0].ExistsInTarget = true }, "already exists in b"},
		{"not an EBS volume", func(_ *Migration, o *MigrationObserved) { o.StatefulSets[0].Claims[0].VolumeID = "" }, "not an EBS volume"},
		{"volume zone without B nodes", func(_ *Migration, o *MigrationObserved) { o.StatefulSets[0].Claims[0].Zone = "us-east-1c" }, "has no nodes"},
		{"zero replicas", func(_ *Migration, o *MigrationObserved) { o.StatefulSets[0].Replicas = 0 }, "0 replicas"},
		{"bad parallelism", func(m *Migration, _ *MigrationObserved) { m.Handoff.Parallelism = 100 }, "parallelism"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, o := validMigration(), observedDB()
			tt.change(&m, &o)
			_, err := MigrationPlan(o, m)
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want ErrInvalid containing %q", err, tt.want)
			}
		})
	}
}

func TestParseSteps(t *testing.T) {
	got, err := ParseSteps("50, 100")
	if err != nil || len(got) != 2 || got[0] != 50 || got[1] != 100 {
		t.Fatalf("ParseSteps = %v, %v", got, err)
	}
	for _, bad := range []string{"", "50,x", "0,100", "60,40,100", "50"} {
		if _, err := ParseSteps(bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("ParseSteps(%q) = %v, want ErrInvalid", bad, err)
		}
	}
}

func TestNormalizeVolumeID(t *testing.T) {
	for in, want := range map[string]string{
		"vol-0123456789abcdef0":                  "vol-0123456789abcdef0",
		"aws://us-east-1a/vol-0123456789abcdef0": "vol-0123456789abcdef0",
		"aws:///vol-0123456789abcdef0":           "vol-0123456789abcdef0",
		"projects/x/zones/y/disks/pd-1":          "",
	} {
		if got := NormalizeVolumeID(in); got != want {
			t.Errorf("NormalizeVolumeID(%q) = %q, want %q", in, got, want)
		}
	}
}
