package e2e

import (
	"fmt"
	"strings"
	"testing"
)

// TestKilledAtEveryStepBoundaryResumes kills the CLI with SIGKILL at every
// boundary of every step of a release, then runs `resume`, and expects the
// same end state as an uninterrupted release.
func TestKilledAtEveryStepBoundaryResumes(t *testing.T) {
	t.Parallel()
	want := appState{ActiveSelects: "green", PreviewSelects: "blue", BlueImage: v1, GreenImage: v2, BlueReplicas: 0, GreenReplicas: 2}
	health := newHealthServer(t)
	args := []string{"deploy", "shop", "--image", v2, "--yes", "--preview-url", health.URL, "--health-url", "/healthz", "--interval", "10ms"}

	// The plan names every step; kill at each of them.
	probe := newEnv(t)
	probe.givenBlueGreenApp("shop", v1, 2)
	steps := planSteps(t, probe, append([]string{"plan"}, args[1:]...))
	if len(steps) < 6 {
		t.Fatalf("plan has %d steps: %v", len(steps), steps)
	}
	for _, step := range steps {
		for _, phase := range []string{"started", "acted", "done"} {
			t.Run(step+"/"+phase, func(t *testing.T) {
				t.Parallel()
				e := newEnv(t)
				e.givenBlueGreenApp("shop", v1, 2)
				killed := e.cli([]string{"BLUEGREEN_TEST_CRASH_AT=" + step + "/" + phase}, args...)
				if killed.code != -1 {
					t.Fatalf("want the CLI killed by SIGKILL, got %s", killed)
				}
				r := e.cli(nil, "resume", "shop")
				if r.code != 0 {
					t.Fatalf("resume: %s", r)
				}
				if got := e.state("shop"); got != want {
					t.Fatalf("after resume: %+v, want %+v", got, want)
				}
				e.waitEndpoints("shop", "green")
			})
		}
	}
}

func planSteps(t *testing.T, e *env, args []string) []string {
	t.Helper()
	r := e.mustCLI(args...)
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
