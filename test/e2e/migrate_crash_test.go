package e2e

import (
	"fmt"
	"strings"
	"testing"

	"github.com/bluegreen/bluegreen/test/migrationbed"
)

// TestMigrateKilledAtEveryStepBoundaryResumes kills the CLI with SIGKILL at
// every boundary of every step of a migration, one after the other, each
// time continuing with `resume`; the migration still converges to B. Then a
// rollback killed while undoing the hand-off converges back to A.
func TestMigrateKilledAtEveryStepBoundaryResumes(t *testing.T) {
	// Given a migration with a standby, one hand-off and two shifts
	mg := givenMigration(t, 1, migrationbed.Options{}, migrationbed.SpecOptions{Steps: []int{50, 100}})
	steps := mg.planSteps()
	if len(steps) < 14 {
		t.Fatalf("plan has %d steps: %v", len(steps), steps)
	}

	// When it is killed at every boundary and resumed each time
	verb := "apply"
	kills := 0
	for _, step := range steps {
		for _, phase := range []string{"started", "acted", "done"} {
			r := mg.cli([]string{"BLUEGREEN_TEST_CRASH_AT=" + step + "/" + phase}, verb)
			if r.code != -1 {
				t.Fatalf("%s with a crash at %s/%s: want SIGKILL, got %s", verb, step, phase, r)
			}
			kills++
			verb = "resume"
		}
	}
	r := mg.cli(nil, "resume")

	// Then it converges to B exactly as an uninterrupted run
	if r.code != 0 && !strings.Contains(r.stderr, "nothing to resume") {
		t.Fatalf("final resume after %d kills: %s", kills, r)
	}
	st := mg.mustCLI("status", "-o", "json")
	if !strings.Contains(st.stdout, `"state": "succeeded"`) || strings.Contains(st.stdout, `"ok": false`) {
		t.Fatalf("status after %d kills:\n%s", kills, st.stdout)
	}
	if w := mg.weights(); w["green"] != 100 {
		t.Fatalf("weights = %v after %d kills", w, kills)
	}
	mg.thenRunsIn("B")
	mg.thenNoVolumeDeleted()

	// When a rollback is killed while it undoes the StatefulSet in B, and run again
	db := mg.shop.StatefulSets[0]
	at := fmt.Sprintf("handoff/shop/%s/apply-target/undoing", db.Name)
	if r := mg.cli([]string{"BLUEGREEN_TEST_CRASH_AT=" + at}, "rollback"); r.code != -1 {
		t.Fatalf("rollback with a crash at %s: want SIGKILL, got %s", at, r)
	}
	mg.mustCLI("rollback")

	// Then everything is back on A with its volume
	if w := mg.weights(); w["blue"] != 100 {
		t.Fatalf("weights after rollback = %v", w)
	}
	mg.thenRunsIn("A")
	mg.thenNoVolumeDeleted()
}

// planSteps lists the step names `migrate plan` prints.
func (mg *migration) planSteps() []string {
	mg.t.Helper()
	r := mg.mustCLI("plan")
	var steps []string
	for _, line := range strings.Split(r.stdout, "\n") {
		var n int
		var name string
		if _, err := fmt.Sscanf(strings.TrimSpace(line), "%d. %s", &n, &name); err == nil {
			steps = append(steps, name)
		}
	}
	return steps
}
