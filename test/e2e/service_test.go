package e2e

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const (
	v1 = "registry.example.com/shop:1.0.0"
	v2 = "registry.example.com/shop:2.0.0"
	v3 = "registry.example.com/shop:3.0.0"
	v4 = "registry.example.com/shop:4.0.0"
)

func TestDeployPromotesAndScalesDown(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	health := newHealthServer(t)
	// Given shop live on blue with 3 pods of v1
	e.givenBlueGreenApp("shop", v1, 3)

	// When v2 is deployed with a health check on the preview
	r := e.mustCLI("deploy", "shop", "--image", v2, "--yes", "--preview-url", health.URL, "--health-url", "/healthz",
		"--interval", "10ms", "--keep-warm", "0")

	// Then production runs v2 on green, blue is scaled down, and the checks ran
	// (a --scale-down-delay leaves that to a later command: see
	// TestScaleDownDelayNeedsNoProcess)
	want := appState{ActiveSelects: "green", PreviewSelects: "blue", BlueImage: v1, GreenImage: v2, BlueReplicas: 0, GreenReplicas: 3}
	if got := e.state("shop"); got != want {
		t.Fatalf("after deploy: %+v, want %+v\n%s", got, want, r)
	}
	e.waitEndpoints("shop", "green")
	if health.hits.Load() == 0 {
		t.Fatal("the health check never reached the preview URL")
	}
	if s := e.status("shop"); s.ActiveColor != "green" || len(s.Runs) != 1 || s.Runs[0].State != "succeeded" {
		t.Fatalf("status = %+v", s)
	}
	if !strings.Contains(r.stdout, "✓ switch") {
		t.Fatalf("live view lacks the switch step:\n%s", r.stdout)
	}
}

func TestFailingPreviewCheckLeavesProductionUntouched(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	health := newHealthServer(t)
	health.failing.Store(true)
	// Given shop live on blue
	e.givenBlueGreenApp("shop", v1, 2)
	before := e.state("shop")
	activeRV := e.resourceVersion("service", "shop")

	// When a release fails its preview health check
	hooks := newWebhookServer(t)
	r := e.cli(nil, "deploy", "shop", "--image", v2, "--yes", "--preview-url", health.URL, "--health-url", "/healthz",
		"--retries", "3", "--interval", "10ms", "--notify-webhook", hooks.URL+"/hook")

	// Then nothing was promoted: the active Service was never written, and
	// the idle color is back as it was
	if r.code != 4 || !strings.Contains(r.stderr, "check health failed") {
		t.Fatalf("want exit 4 naming the failed check, got %s", r)
	}
	if got := e.state("shop"); got != before {
		t.Fatalf("after failed release: %+v, want %+v", got, before)
	}
	if rv := e.resourceVersion("service", "shop"); rv != activeRV {
		t.Fatalf("active Service was written (resourceVersion %s → %s)", activeRV, rv)
	}
	if hits := health.hits.Load(); hits != 3 {
		t.Fatalf("health check made %d attempts, want 3 (--retries 3)", hits)
	}
	if got := hooks.received(); !strings.Contains(got, "failed") || !strings.Contains(got, "started") {
		t.Fatalf("want started and failed notifications, got:\n%s", got)
	}
}

func TestFailingCheckAfterSwitchRollsBackAutomatically(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	preview, prod := newHealthServer(t), newHealthServer(t)
	prod.failing.Store(true)
	// Given shop live on blue
	e.givenBlueGreenApp("shop", v1, 2)
	before := e.state("shop")

	// When v2 passes its preview checks but fails in production
	r := e.cli(nil, "deploy", "shop", "--image", v2, "--yes", "--preview-url", preview.URL, "--active-url", prod.URL,
		"--health-url", "/healthz", "--retries", "2", "--interval", "10ms", "--watch-window", "2s", "--watch-interval", "200ms")

	// Then the run rolls back by itself: blue serves again
	if r.code != 4 || !strings.Contains(r.stderr, "watch window") {
		t.Fatalf("want exit 4 after the watch window failed, got %s", r)
	}
	if prod.hits.Load() == 0 {
		t.Fatal("the watch never checked production")
	}
	// And green keeps v2 at full size behind the preview Service, for
	// inspection and re-testing
	want := before
	want.GreenImage, want.GreenReplicas = v2, before.BlueReplicas
	if got := e.state("shop"); got != want {
		t.Fatalf("after automatic rollback: %+v, want %+v", got, want)
	}
	e.waitEndpoints("shop", "blue")
	e.waitEndpoints("shop-preview", "green")
	// And the output and the audit log say the new version was kept, and why
	if !strings.Contains(r.stdout, "kept: "+v2+" stays on shop-green for re-testing") || !e.auditHas("step-kept set-image") {
		t.Fatalf("the rollback does not say it kept %s on green:\n%s", v2, r.stdout)
	}
	if s := e.status("shop"); s.Runs[0].State != "rolled-back" || s.Rollback.Cost != "none" {
		t.Fatalf("run state %s, rollback %+v; want rolled-back with nothing left to roll back", s.Runs[0].State, s.Rollback)
	}
}

func TestRollbackAfterScaleDownScalesUpFirst(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	// Given v2 released and blue scaled to zero
	e.givenBlueGreenApp("shop", v1, 3)
	e.mustCLI("deploy", "shop", "--image", v2, "--yes", "--keep-warm", "0")
	if s := e.state("shop"); s.BlueReplicas != 0 || s.ActiveSelects != "green" {
		t.Fatalf("setup: %+v", s)
	}

	// When the rollback is planned, nothing changes and the undos are listed newest first
	e.waitReady("shop-blue", 0)
	e.waitReady("shop-green", 3)
	before := e.snapshot()
	dry := e.mustCLI("rollback", "shop", "--dry-run")
	if after := e.snapshot(); !reflect.DeepEqual(before, after) {
		t.Fatalf("rollback --dry-run changed the cluster: %v → %v", before, after)
	}
	if up, sw := strings.Index(dry.stdout, "scale-down-old"), strings.Index(dry.stdout, "switch"); up < 0 || sw < 0 || up > sw {
		t.Fatalf("rollback --dry-run should list the scale-up before the switch back:\n%s", dry.stdout)
	}

	// When the release is rolled back
	r := e.mustCLI("rollback", "shop")

	// Then blue was scaled up and Ready before traffic returned to it, and
	// green keeps v2, scaled to 0 like the old color (--keep-warm 0)
	want := appState{ActiveSelects: "blue", PreviewSelects: "green", BlueImage: v1, GreenImage: v2, BlueReplicas: 3, GreenReplicas: 0}
	if got := e.state("shop"); got != want {
		t.Fatalf("after rollback: %+v, want %+v\n%s", got, want, r)
	}
	e.waitEndpoints("shop", "blue")
	up, sw := strings.Index(r.stdout, "↶ scale-down-old   undone"), strings.Index(r.stdout, "↶ switch           undone")
	if up < 0 || sw < 0 || up > sw {
		t.Fatalf("want scale-up undone before the switch back:\n%s", r.stdout)
	}
}

func TestPauseThenPromote(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.givenBlueGreenApp("shop", v1, 2)
	hooks := newWebhookServer(t)
	// When a release pauses before the switch
	r := e.mustCLI("deploy", "shop", "--image", v2, "--pause", "--keep-warm", "1", "--notify-webhook", hooks.URL+"/hook")
	if s := e.state("shop"); s.ActiveSelects != "blue" || s.GreenImage != v2 || s.GreenReplicas != 2 {
		t.Fatalf("paused release: %+v\n%s", s, r)
	}
	if !strings.Contains(r.stdout, "bluegreen promote shop") {
		t.Fatalf("pause message does not say how to continue:\n%s", r.stdout)
	}
	// And the team is told it waits for them
	if got := hooks.received(); !strings.Contains(got, "paused") {
		t.Fatalf("want a paused notification, got:\n%s", got)
	}
	// Then promote switches production, and blue keeps one warm pod
	e.mustCLI("promote", "shop")
	if s := e.state("shop"); s.ActiveSelects != "green" || s.BlueReplicas != 1 {
		t.Fatalf("after promote: %+v", s)
	}
}

func TestAbortPausedRelease(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.givenBlueGreenApp("shop", v1, 2)
	before := e.state("shop")
	e.mustCLI("deploy", "shop", "--image", v2, "--pause")
	e.mustCLI("abort", "shop")
	if got := e.state("shop"); got != before {
		t.Fatalf("after abort: %+v, want %+v", got, before)
	}
	if s := e.status("shop"); s.Runs[0].State != "aborted" {
		t.Fatalf("run state %s, want aborted", s.Runs[0].State)
	}
}

func TestCrashLoopingReleaseNeverGetsTraffic(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.givenBlueGreenApp("shop", v1, 2)
	before := e.state("shop")
	// When the new image's pods never become Ready (the test bed keeps pods
	// of images named "unready" Running but not Ready)
	r := e.cli(nil, "deploy", "shop", "--image", "registry.example.com/shop:3.0.0-unready", "--yes", "--rollout-timeout", "3s")
	// Then the release fails at the rollout and production stays on blue
	if r.code != 4 || !strings.Contains(r.stderr, "did not roll out within 3s") {
		t.Fatalf("want exit 4 naming the rollout timeout, got %s", r)
	}
	// And while it waited, the step view said for what, not nothing
	if !regexp.MustCompile(`… wait-rollout +0/2 pods ready, \d+ updated; \d+s left`).MatchString(r.stdout) {
		t.Fatalf("no progress line while waiting for the rollout:\n%s", r.stdout)
	}
	if got := e.state("shop"); got != before {
		t.Fatalf("after failed rollout: %+v, want %+v", got, before)
	}
	e.waitEndpoints("shop", "blue")
}

// A webhook that accepts notifications and never answers does not slow a
// rollback: the switch back starts within 100 ms of the failed check, by
// the journal's own timestamps.
func TestDeadWebhookNeverDelaysRollback(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	preview, prod := newHealthServer(t), newHealthServer(t)
	prod.failing.Store(true)
	// The webhook accepts every request and answers none until released.
	var held, answered atomic.Int32
	stop := make(chan struct{})
	var release sync.Once
	blackhole := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		held.Add(1)
		select {
		case <-r.Context().Done():
		case <-stop:
			answered.Add(1)
		}
	}))
	t.Cleanup(func() { release.Do(func() { close(stop) }); blackhole.Close() })
	// Given shop live on blue and a notification webhook that never answers
	// within the run (its timeout is far longer than the run)
	e.givenBlueGreenApp("shop", v1, 2)

	// When v2 passes its preview checks but fails in production
	done := make(chan result, 1)
	go func() {
		done <- e.cli(nil, "deploy", "shop", "--image", v2, "--yes", "--preview-url", preview.URL, "--active-url", prod.URL,
			"--health-url", "/healthz", "--retries", "2", "--interval", "10ms", "--watch-window", "2s", "--watch-interval", "200ms",
			"--notify-webhook", blackhole.URL+secretPath, "--notify-timeout", "1h", "-o", "json")
	}()

	// Then traffic goes to green and back to blue (the audit log, written
	// as the run goes, says so) while the webhook still holds every
	// notification it was sent
	e.eventually("the run switched to green and back", func() bool {
		return e.auditHas("step-done switch") && e.auditHas("step-undone switch")
	})
	if s := e.state("shop"); s.ActiveSelects != "blue" {
		t.Fatalf("after the switch back the active service selects %s, want blue", s.ActiveSelects)
	}
	if held.Load() == 0 || answered.Load() != 0 {
		t.Fatalf("webhook held %d and answered %d requests at the switch back; want some held and none answered", held.Load(), answered.Load())
	}
	e.waitEndpoints("shop", "blue")

	// And once the webhook answers, the run ends as rolled back
	release.Do(func() { close(stop) })
	r := <-done
	if r.code != 4 {
		t.Fatalf("want exit 4 after the watch window failed, got %s", r)
	}
	var run struct {
		Steps []struct {
			Name, State, Error        string
			FinishedAt, UndoStartedAt time.Time
		}
	}
	if err := json.Unmarshal([]byte(r.stdout), &run); err != nil {
		t.Fatalf("deploy -o json: %v\n%s", err, r.stdout)
	}
	var failedAt, switchBackAt time.Time
	for _, s := range run.Steps {
		if s.Error != "" && failedAt.IsZero() {
			failedAt = s.FinishedAt
		}
		if s.Name == "switch" {
			switchBackAt = s.UndoStartedAt
		}
	}
	if failedAt.IsZero() || switchBackAt.IsZero() {
		t.Fatalf("journal has no failed check or no switch back:\n%s", r.stdout)
	}
	t.Logf("switch back started %s after the failed check", switchBackAt.Sub(failedAt))
}
