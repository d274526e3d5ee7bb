package e2e

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/bluegreen/bluegreen/test/migrationbed"
)

// With --approve-each-step a migration stops after each shift until a
// person approves the next: resume keeps it waiting, one promote lets one
// shift through, and abort at a gate sends everything back to A.
func TestMigrateApproveEachStep(t *testing.T) {
	// Given a migration walking the weights 50 → 100, approving each step
	mg := givenMigration(t, 1, migrationbed.Options{}, migrationbed.SpecOptions{NoStandby: true, Steps: []int{50, 100}})
	hooks := newWebhookServer(t)

	// (A spec without a pause waits one TTL of its records, 60 s here,
	// after each shift; the plan says so and changes nothing.)
	noPause := mg.m
	noPause.Pause = nil
	other := filepath.Join(t.TempDir(), "no-pause.yaml")
	if err := migrationbed.WriteSpec(other, noPause); err != nil {
		t.Fatal(err)
	}
	if r := mg.cli(nil, "plan", "-f", other); r.code != 0 || strings.Count(r.stdout, "wait 1m0s") != 2 {
		t.Fatalf("plan of a spec without a pause: want both shifts to wait 1m0s, got %s", r)
	}
	if w := mg.weights(); w["blue"] != 100 || w["green"] != 0 {
		t.Fatalf("weights after plan = %v, want 100/0 untouched", w)
	}

	// When it is applied
	r := mg.cli(nil, "apply", "--approve-each-step", "--notify-webhook", hooks.URL+"/hook")

	// Then it holds at 50/50, says how to go on, and tells the team
	if r.code != 0 || !strings.Contains(r.stdout, "migrate promote -f") || !strings.Contains(r.stdout, "migrate abort -f") {
		t.Fatalf("apply with --approve-each-step: want a pause naming promote and abort, got %s", r)
	}
	if w := mg.weights(); w["blue"] != 50 || w["green"] != 50 {
		t.Fatalf("weights at the gate = %v, want 50/50", w)
	}
	if got := hooks.received(); !strings.Contains(got, "paused") {
		t.Fatalf("want a paused notification at the gate, got:\n%s", got)
	}
	// And resume does not pass the gate
	if r := mg.mustCLI("resume"); !strings.Contains(r.stdout, "migrate promote -f") {
		t.Fatalf("resume at a gate: want it still paused, got %s", r)
	}
	if w := mg.weights(); w["green"] != 50 {
		t.Fatalf("weights after resume at a gate = %v, want still 50/50", w)
	}

	// When someone promotes
	mg.mustCLI("promote")

	// Then the last shift runs and the migration completes
	if w := mg.weights(); w["blue"] != 0 || w["green"] != 100 {
		t.Fatalf("weights after promote = %v, want 0/100", w)
	}
	mg.thenRunsIn("B")
	if st := mg.mustCLI("status", "-o", "json"); !strings.Contains(st.stdout, `"state": "succeeded"`) {
		t.Fatalf("status after the last promote:\n%s", st.stdout)
	}
	// And a further promote has nothing to approve
	if r := mg.cli(nil, "promote"); r.code != 2 || !strings.Contains(r.stderr, "nothing to promote") {
		t.Fatalf("promote of a finished migration: want exit 2, got %s", r)
	}

	// When it is rolled back, applied again, and aborted at the first gate
	mg.mustCLI("rollback")
	if r := mg.cli(nil, "apply", "--approve-each-step"); r.code != 0 {
		t.Fatalf("second apply: %s", r)
	}
	if w := mg.weights(); w["green"] != 50 {
		t.Fatalf("weights at the second gate = %v, want 50/50", w)
	}
	mg.mustCLI("abort")

	// Then all traffic and the volume are back on A, and the run is aborted
	if w := mg.weights(); w["blue"] != 100 || w["green"] != 0 {
		t.Fatalf("weights after abort = %v, want 100/0", w)
	}
	mg.thenRunsIn("A")
	mg.thenNoVolumeDeleted()
	if st := mg.mustCLI("status", "-o", "json"); !strings.Contains(st.stdout, `"state": "aborted"`) {
		t.Fatalf("status after abort:\n%s", st.stdout)
	}
}
