package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bluegreen/bluegreen/internal/audit"
	"github.com/bluegreen/bluegreen/internal/clock"
	"github.com/bluegreen/bluegreen/internal/engine"
	"github.com/bluegreen/bluegreen/internal/journal"
	"github.com/bluegreen/bluegreen/internal/plan"
	"github.com/bluegreen/bluegreen/internal/run"
)

// leaks are the secret parts of the release below; none may be printed,
// audited or sent as an Event.
var leaks = []string{"pw-db-4242", "dsnpass", "u:dsnpass", "user:pass", "hunter2", "tok3n-abc", "pvtok-9"}

// A release whose env values and URLs carry credentials: env values are
// never shown (keys only), URLs lose their userinfo and secret query values,
// in the text and JSON plan, the live view and the audit log.
func TestNoSecretsInOutput(t *testing.T) {
	rel, err := parseRelease(t, "shop", "--image", "registry.example.com/shop:2.0.0", "--yes",
		"--env", "DB_PASSWORD=pw-db-4242", "--env", "DSN=postgres://u:dsnpass@db.internal/shop", "--env", "LOG_LEVEL=debug",
		"--health-url", "http://user:pass@health.internal/?token=tok3n-abc",
		"--preview-url", "https://admin:hunter2@shop-preview.prod.svc/?access_token=pvtok-9")
	if err != nil {
		t.Fatal(err)
	}
	steps, err := plan.ServiceDeploy(goldenObserved(), rel)
	if err != nil {
		t.Fatal(err)
	}
	spec, _ := json.Marshal(rel)
	r := &journal.Run{ID: "r1", Scope: "service", Operation: "deploy", Namespace: "prod", App: "shop", Spec: spec, Steps: steps}

	for _, output := range []string{"text", "json"} {
		var out bytes.Buffer
		g := &Global{Output: output, out: &out}
		if err := g.printPlan(r); err != nil {
			t.Fatal(err)
		}
		assertNoLeak(t, "plan -o "+output, out.String())
		if output == "text" && !strings.Contains(out.String(), "env DB_PASSWORD, DSN, LOG_LEVEL (values hidden)") {
			t.Errorf("plan does not list the env keys:\n%s", out.String())
		}
	}

	var live, logs bytes.Buffer
	g := &Global{Output: "text", out: &live, Audit: filepath.Join(t.TempDir(), "audit.jsonl"), log: slog.New(slog.NewTextHandler(&logs, nil))}
	sink, closeSink := run.Sinks{AuditPath: g.Audit, Secrets: run.Secrets(r)}.Open(context.Background(), r, g.log, clock.Real{})
	setImage := r.Step("set-image")
	setImage.Before = json.RawMessage(`{"image":"shop:1","env":[{"name":"DSN","value":"postgres://u:dsnpass@db.internal/shop"},{"name":"OLD","value":"pw-db-4242"}]}`)
	for _, ev := range []engine.Event{
		{Run: r, Step: setImage, Kind: engine.StepStarted},
		{Run: r, Step: setImage, Kind: engine.StepDone},
		{Run: r, Step: r.Step("check-preview"), Kind: engine.StepStarted},
		{Run: r, Step: r.Step("check-preview"), Kind: engine.StepFailed, Err: errors.New(`Get "http://user:pass@health.internal/?token=tok3n-abc": EOF`)},
	} {
		g.liveView(ev)
		sink(ev)
	}
	closeSink()
	assertNoLeak(t, "live view", live.String())
	assertNoLeak(t, "logs", logs.String())
	data, err := os.ReadFile(g.Audit)
	if err != nil {
		t.Fatal(err)
	}
	assertNoLeak(t, "audit log", string(data))
	recs, err := audit.Read(context.Background(), g.Audit, audit.Filter{})
	if err != nil || len(recs) != 4 {
		t.Fatalf("audit records %d, %v; want 4", len(recs), err)
	}
}

func assertNoLeak(t *testing.T, where, out string) {
	t.Helper()
	for _, l := range leaks {
		if strings.Contains(out, l) {
			t.Errorf("%s shows %q:\n%s", where, l, out)
		}
	}
}
