package e2e

import (
	"strings"
	"testing"

	"github.com/bluegreen/bluegreen/test/migrationbed"
)

// A full migration moves the stateless app and the StatefulSet's volume to
// B, walks the weights to 0/100 and prints a verified checklist; rollback
// brings everything back to A with the same volume.
func TestMigrateFullAndRollback(t *testing.T) {
	// Given a shop in A with one StatefulSet on an EBS volume whose PV is Delete
	mg := givenMigration(t, 1, migrationbed.Options{}, migrationbed.SpecOptions{})
	db := mg.shop.StatefulSets[0]

	// When the migration is applied
	r := mg.mustCLI("apply")

	// Then traffic, data and the internal CNAME are on B, verified
	for _, want := range []string{"Plan: migrate shop", "handoff/shop/db/release-claims", "Verification checklist", "Migration run"} {
		if !strings.Contains(r.stdout, want) {
			t.Fatalf("output lacks %q:\n%s", want, r)
		}
	}
	if strings.Contains(r.stdout, "✗") {
		t.Fatalf("checklist has a failed item:\n%s", r.stdout)
	}
	if w := mg.weights(); w["blue"] != 0 || w["green"] != 100 {
		t.Fatalf("weights after migration = %v, want blue 0 green 100", w)
	}
	if got := mg.cname(db.CNAME); got != migrationbed.GreenValue(db) {
		t.Fatalf("cname %s = %q, want %q", db.CNAME, got, migrationbed.GreenValue(db))
	}
	mg.thenRunsIn("B")
	mg.thenNoVolumeDeleted()

	// When it is rolled back
	mg.mustCLI("rollback")

	// Then everything is on A again, with the same volume bound to the same claim
	if w := mg.weights(); w["blue"] != 100 || w["green"] != 0 {
		t.Fatalf("weights after rollback = %v, want blue 100 green 0", w)
	}
	if got := mg.cname(db.CNAME); got != migrationbed.BlueValue(db) {
		t.Fatalf("cname %s = %q after rollback, want %q", db.CNAME, got, migrationbed.BlueValue(db))
	}
	mg.thenRunsIn("A")
	mg.thenNoVolumeDeleted()
}
