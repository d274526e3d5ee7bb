//go:build !lean

package cli

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/bluegreen/bluegreen/internal/journal"
	"github.com/bluegreen/bluegreen/internal/plan"
)

// TestMigratePlanGolden pins the text and JSON of `bluegreen migrate plan`:
// the runbook a platform engineer reviews before moving a cluster. Refresh
// with `go test ./internal/cli -update`.
func TestMigratePlanGolden(t *testing.T) {
	pause := plan.Duration(120e9)
	var dns plan.DNS
	if err := json.Unmarshal([]byte(`{"zoneID": "Z0123456789ABC", "records": [{"name": "shop.example.com",
		"blue": {"setIdentifier": "blue", "value": "a-lb.elb.amazonaws.com"},
		"green": {"setIdentifier": "green", "value": "b-lb.elb.amazonaws.com"}}]}`), &dns); err != nil {
		t.Fatal(err)
	}
	m := plan.Migration{
		APIVersion: plan.MigrationAPIVersion, Kind: plan.MigrationKind, Name: "shop-1-34",
		Source: plan.ClusterRef{Context: "prod-129"}, Target: plan.ClusterRef{Context: "prod-134", LoadBalancers: []string{"k8s-shop-web-1a2b3c"}},
		Workloads: plan.Workloads{Namespaces: []string{"shop"}},
		StatefulSets: []plan.StatefulSetRef{
			{Namespace: "shop", Name: "db", CNAME: &plan.CNAME{ZoneID: "ZINT", Name: "db.shop.internal.example.com",
				Blue: "db.blue.internal.example.com", Green: "db.green.internal.example.com"}},
			{Namespace: "shop", Name: "cache", StorageClass: "gp3"},
		},
		DNS:   dns,
		Steps: []int{50, 100}, Pause: &pause, ApproveEachStep: true,
	}
	m.Defaults()
	claim := func(pvc, pv, vol string) plan.ClaimObserved {
		return plan.ClaimObserved{PVC: pvc, PV: pv, VolumeID: vol, Zone: "us-east-1a", StorageClass: "gp2", Capacity: "20Gi",
			FSType: "ext4", AccessModes: []string{"ReadWriteOnce"}, ReclaimPolicy: "Delete"}
	}
	obs := plan.MigrationObserved{TargetZones: []string{"us-east-1a", "us-east-1b"},
		Standby: []string{"Namespace shop", "Service shop/web", "Deployment shop/web"},
		StatefulSets: []plan.StatefulSetObserved{
			{Namespace: "shop", Name: "db", Replicas: 1, Claims: []plan.ClaimObserved{claim("data-db-0", "pvc-0a1", "vol-0123456789abcdef0")}},
			{Namespace: "shop", Name: "cache", Replicas: 2, Claims: []plan.ClaimObserved{
				claim("data-cache-0", "pvc-0b1", "vol-0123456789abcdef1"), claim("data-cache-1", "pvc-0b2", "vol-0123456789abcdef2")}},
		}}
	steps, err := plan.MigrationPlan(obs, m)
	if err != nil {
		t.Fatal(err)
	}
	r := &journal.Run{Operation: "migrate", Context: "prod-129", App: "shop-1-34", Steps: steps}
	for _, output := range []string{"text", "json"} {
		t.Run(output, func(t *testing.T) {
			var out bytes.Buffer
			g := &Global{Output: output, out: &out}
			if err := g.printMigrationPlan(r); err != nil {
				t.Fatal(err)
			}
			assertGolden(t, filepath.Join("testdata", "plan-migrate."+output), out.Bytes())
		})
	}
}
