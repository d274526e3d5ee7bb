package e2e

import (
	"context"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/bluegreen/bluegreen/test/migrationbed"
)

// With no check configured, every shift is still gated by the target
// health of B's load balancer: a target of B that turns unhealthy fails
// the first shift, naming the target, and the run rolls back — traffic to
// 100/0, the StatefulSet back in A on its volume.
func TestMigrateUnhealthyTargetsInBRollBack(t *testing.T) {
	// Given a migration with no checks, whose load balancer in B has an unhealthy target
	mg := givenMigration(t, 1, migrationbed.Options{}, migrationbed.SpecOptions{NoStandby: true, Steps: []int{10, 100}})
	nodes, err := mg.w.B.Client.CoreV1().Nodes().List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	id := nodes.Items[0].Spec.ProviderID
	inst := id[strings.LastIndex(id, "/")+1:]
	if err := mg.w.AWS.SetTargetHealth(mg.w.GreenTargetGroup, inst, "unhealthy"); err != nil {
		t.Fatal(err)
	}

	// When the migration runs
	r := mg.cli(nil, "apply")

	// Then shift-10 fails on the target health and everything is back on A
	out := r.stdout + r.stderr
	if r.code != 4 || !strings.Contains(out, "shift-10") || !strings.Contains(out, "target-health") || !strings.Contains(out, inst) {
		t.Fatalf("want a rollback at shift-10 naming target-health and %s, got %s", inst, r)
	}
	if w := mg.weights(); w["blue"] != 100 || w["green"] != 0 {
		t.Fatalf("weights after the rollback = %v, want 100/0", w)
	}
	mg.thenRunsIn("A")
	mg.thenNoVolumeDeleted()
}
