package cli

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"

	"github.com/bluegreen/bluegreen/internal/audit"
	"github.com/bluegreen/bluegreen/internal/engine"
	"github.com/bluegreen/bluegreen/internal/journal"
	"github.com/bluegreen/bluegreen/internal/notify"
	"github.com/bluegreen/bluegreen/internal/plan"
	"github.com/bluegreen/bluegreen/internal/redact"
)

// secrets collects every secret a run knows of: notification and check
// webhook URLs, check headers, secret-looking env values, env values that
// are URLs (a DSN with a password), and the credentials and query values of
// the preview, active and check URLs. They are redacted from every output.
func (g *Global) secrets(r *journal.Run) *redact.Secrets {
	s := redact.NewSecrets(g.notifyURLs()...)
	var rel plan.ServiceRelease
	if r != nil && json.Unmarshal(r.Spec, &rel) == nil {
		for k, v := range rel.Env {
			if redact.IsSecretKey(k) || strings.Contains(v, "://") {
				s.Add(v)
			}
		}
		s.AddURL(rel.PreviewURL)
		s.AddURL(rel.ActiveURL)
		for _, c := range rel.Checks {
			if c.Webhook != nil {
				s.Add(c.Webhook.URL)
				for _, v := range c.Webhook.Headers {
					s.Add(v)
				}
			}
			if c.HTTP != nil {
				s.AddURL(c.HTTP.URL)
				for _, v := range c.HTTP.Headers {
					s.Add(v)
				}
			}
		}
	}
	return s
}

func redactText(s string) string { return redact.Text(s) }

// maskEnvValues masks the value of every {"name": K, "value": V} pair (a
// container's env entry): a before-state goes to the audit log without any
// env value, since a value under an innocent name (DB_URL) can still hold a
// password.
func maskEnvValues(raw json.RawMessage) json.RawMessage {
	if len(raw) == 0 {
		return raw
	}
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return raw
	}
	var walk func(any)
	walk = func(x any) {
		switch t := x.(type) {
		case map[string]any:
			if _, ok := t["name"].(string); ok {
				if _, has := t["value"]; has {
					t["value"] = redact.Mask
				}
			}
			for _, c := range t {
				walk(c)
			}
		case []any:
			for _, c := range t {
				walk(c)
			}
		}
	}
	walk(v)
	out, err := json.Marshal(v)
	if err != nil {
		return raw
	}
	return out
}

func redactErr(err error) string { return redact.Text(err.Error()) }

func (g *Global) auditPath() string {
	if g.Audit != "" {
		return g.Audit
	}
	return filepath.Join(filepath.Dir(g.journalPath()), "audit.jsonl")
}

// auditSink appends one record per step transition and per run outcome.
func (s *session) auditSink(ctx context.Context, r *journal.Run) (func(engine.Event), func()) {
	log, err := audit.Open(s.g.auditPath(), s.g.secrets(r))
	if err != nil {
		s.g.log.Warn("audit log unavailable", "error", err)
		return nil, nil
	}
	return func(ev engine.Event) {
		rec := audit.Record{Run: ev.Run.ID, Scope: string(ev.Run.Scope), App: ev.Run.App, Namespace: ev.Run.Namespace,
			Context: ev.Run.Context, Action: string(ev.Kind), Result: "ok"}
		if ev.Step != nil {
			rec.Action = string(ev.Kind) + " " + ev.Step.Name
			if len(ev.Step.Mutations) > 0 {
				rec.Object = ev.Step.Mutations[0].Object
				after, _ := json.Marshal(ev.Step.Mutations)
				rec.After = after
			}
			rec.Before = maskEnvValues(ev.Step.Before)
			if ev.Kind == engine.StepKept {
				rec.Note = redactText(ev.Step.Kept)
			}
		} else if ev.Run.Reason != "" {
			rec.Error = ev.Run.Reason
		}
		if ev.Err != nil {
			rec.Result, rec.Error = "failed", ev.Err.Error()
		}
		if err := log.Append(context.WithoutCancel(ctx), rec); err != nil {
			s.g.log.Warn("append audit record", "error", err)
		}
	}, func() { _ = log.Close() }
}

// notifyKinds maps run transitions to notification kinds.
var notifyKinds = map[engine.EventKind]string{
	engine.RunRunning:    "started",
	engine.RunPaused:     "paused",
	engine.RunSucceeded:  "promoted",
	engine.RunRolledBack: "rolled-back",
	engine.RunAborted:    "aborted",
	engine.RunFailed:     "failed",
}

// notifySink posts run-level transitions to the configured webhooks and
// SNS topics (--notify-webhook, --notify). The
// posts run in the background (notify.Queue): the engine calls its
// observers between steps, and a rollback must not wait for a webhook. A
// failed notification is logged (redacted) and never fails the release.
// The returned func flushes the queue for at most --notify-timeout.
func (s *session) notifySink(ctx context.Context, r *journal.Run) (func(engine.Event), func()) {
	secrets := s.g.secrets(r)
	targets := s.g.notifiers(ctx, secrets)
	if len(targets) == 0 {
		return nil, nil
	}
	q := notify.NewQueue(notify.Multi{Notifiers: targets, Logger: s.g.log, Secrets: secrets}, 0, s.g.log)
	flush := func() {
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.g.NotifyTimeout)
		defer cancel()
		q.Close(fctx)
	}
	var rel plan.ServiceRelease
	_ = json.Unmarshal(r.Spec, &rel)
	return func(ev engine.Event) {
		// Run-level transitions only. A pause carries the step it paused
		// at (the approval gate, or the shift whose weights drifted).
		kind := notifyKinds[ev.Kind]
		if kind == "" {
			return
		}
		msg := ev.Run.Reason
		if ev.Err != nil {
			msg = ev.Err.Error()
		}
		from, to := switchColors(ev.Run)
		_ = q.Notify(ctx, notify.Event{Kind: kind, App: ev.Run.App, Namespace: ev.Run.Namespace,
			Run: ev.Run.ID, FromColor: from, ToColor: to, Image: rel.Image, Message: redact.Text(msg),
			Time: s.g.clock.Now()})
	}, flush
}

// switchColors reads the colors of a run's switch step, if it has one.
func switchColors(r *journal.Run) (from, to string) {
	st := r.Step("switch")
	if st == nil {
		return "", ""
	}
	var p plan.SwitchParams
	if st.DecodeParams(&p) != nil {
		return "", ""
	}
	return string(p.From), string(p.To)
}
