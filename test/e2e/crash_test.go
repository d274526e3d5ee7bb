package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/bluegreen/bluegreen/internal/journal"
)

// TestKilledAtEveryStepBoundaryResumes kills the CLI with SIGKILL at every
// boundary of every step of a release, then runs `resume` from another
// machine (an empty home folder: the record is in the cluster), and
// expects the same end state as an uninterrupted release.
func TestKilledAtEveryStepBoundaryResumes(t *testing.T) {
	t.Parallel()
	want := appState{ActiveSelects: "green", PreviewSelects: "blue", BlueImage: v1, GreenImage: v2, BlueReplicas: 0, GreenReplicas: 2}
	health := newHealthServer(t)
	args := []string{"deploy", "shop", "--image", v2, "--yes", "--preview-url", health.URL, "--health-url", "/healthz", "--interval", "10ms", "--keep-warm", "0"}

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
				r := e.machine("ops").cli("resume", "shop")
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

// TestScaleDownDelaySurvivesResume kills the CLI at the scale-down; a
// resume before the delay is over leaves the run waiting (no process
// stays), and one after it scales down at once: at switch time + delay,
// never restarting the delay.
func TestScaleDownDelaySurvivesResume(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.givenBlueGreenApp("shop", v1, 2)
	const delay = 6 * time.Second
	killed := e.cli([]string{"BLUEGREEN_TEST_CRASH_AT=scale-down-old/started"}, "deploy", "shop", "--image", v2, "--yes", "--scale-down-delay", delay.String())
	if killed.code != -1 {
		t.Fatalf("want SIGKILL, got %s", killed)
	}
	early := e.mustCLI("resume", "shop")
	if !strings.Contains(early.stdout, "scales down to 0 at") || e.state("shop").BlueReplicas != 2 {
		t.Fatalf("a resume before the delay is over should leave the run waiting, blue up:\n%s", early)
	}
	if s := e.status("shop"); s.Runs[0].State != "waiting" {
		t.Fatalf("run is %s, want waiting", s.Runs[0].State)
	}
	e.eventually("the scale-down is due", func() bool {
		return strings.Contains(e.mustCLI("status", "shop").stdout, "due now")
	})
	resumeStart := time.Now()
	e.mustCLI("resume", "shop")

	runs, err := e.runs().List(context.Background(), journal.Filter{App: "shop", Limit: 1})
	if err != nil || len(runs) != 1 {
		t.Fatalf("journal: %v %d runs", err, len(runs))
	}
	var sw struct{ SwitchedAt time.Time }
	var down struct{ ScaledDownAt time.Time }
	if err := json.Unmarshal(runs[0].Step("switch").Output, &sw); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(runs[0].Step("scale-down-old").Output, &down); err != nil {
		t.Fatal(err)
	}
	if got := down.ScaledDownAt.Sub(sw.SwitchedAt); got < delay {
		t.Fatalf("scaled down %s after the switch, want at least %s", got, delay)
	}
	if !down.ScaledDownAt.Before(resumeStart.Add(delay)) {
		t.Fatalf("the resumed run restarted the delay: scaled down at %s, resume began %s", down.ScaledDownAt, resumeStart)
	}
	if s := e.state("shop"); s.BlueReplicas != 0 {
		t.Fatalf("blue not scaled down: %+v", s)
	}
}

// TestKilledRollbackResumes kills a rollback at undo boundaries; resume
// finishes it.
func TestKilledRollbackResumes(t *testing.T) {
	t.Parallel()
	want := appState{ActiveSelects: "blue", PreviewSelects: "green", BlueImage: v1, GreenImage: v2, BlueReplicas: 2, GreenReplicas: 0}
	for _, at := range []string{"scale-down-old/undoing", "scale-down-old/undone", "switch/undoing", "switch/undone", "scale-idle/undone", "set-image/undoing"} {
		t.Run(at, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			e.givenBlueGreenApp("shop", v1, 2)
			e.mustCLI("deploy", "shop", "--image", v2, "--yes", "--keep-warm", "0")
			killed := e.cli([]string{"BLUEGREEN_TEST_CRASH_AT=" + at}, "rollback", "shop")
			if killed.code != -1 {
				t.Fatalf("want SIGKILL, got %s", killed)
			}
			e.mustCLI("resume", "shop")
			if got := e.state("shop"); got != want {
				t.Fatalf("after resumed rollback: %+v, want %+v", got, want)
			}
			if s := e.status("shop"); s.Runs[0].State != "rolled-back" {
				t.Fatalf("run state %s", s.Runs[0].State)
			}
		})
	}
}
