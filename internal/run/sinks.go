package run

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"k8s.io/client-go/kubernetes"

	"github.com/bluegreen/bluegreen/internal/audit"
	"github.com/bluegreen/bluegreen/internal/clock"
	"github.com/bluegreen/bluegreen/internal/engine"
	"github.com/bluegreen/bluegreen/internal/journal"
	"github.com/bluegreen/bluegreen/internal/kube"
	"github.com/bluegreen/bluegreen/internal/notify"
	"github.com/bluegreen/bluegreen/internal/plan"
	"github.com/bluegreen/bluegreen/internal/redact"
)

// Sinks are where a run's transitions go besides the journal. Each is
// optional.
type Sinks struct {
	// AuditPath is the audit log (JSON lines) to append to.
	AuditPath string
	// Events is the client Kubernetes Events are recorded through.
	Events kubernetes.Interface
	// EventRefs, when set, finds the objects Events go on without a
	// request (a controller's informer cache); those it does not find
	// are read.
	EventRefs kube.RefLookup
	// Notifiers receive the run-level transitions, in the background;
	// NotifyTimeout bounds the flush at the end of the run.
	Notifiers     []notify.Notifier
	NotifyTimeout time.Duration
	// Secrets are redacted from the audit log and notifications: the
	// run's and the notifiers' (see Secrets); nil means the run's alone.
	Secrets *redact.Secrets
	// Extra are the caller's own observers, called first (a live view).
	Extra []func(engine.Event)
}

// Open fans every engine transition out to the sinks. The returned func
// flushes and closes them.
func (s Sinks) Open(ctx context.Context, r *journal.Run, log *slog.Logger, clk clock.Clock) (func(engine.Event), func()) {
	sinks := append([]func(engine.Event){}, s.Extra...)
	var closers []func()
	if s.Events != nil {
		events, closeEvents := kubeEvents(ctx, kube.NewRecorder(s.Events, clk).WithLookup(s.EventRefs), log)
		sinks, closers = append(sinks, events), append(closers, closeEvents)
	}
	secrets := s.Secrets
	if secrets == nil {
		secrets = Secrets(r)
	}
	if s.AuditPath != "" {
		if a, closeAudit := auditSink(ctx, s.AuditPath, secrets, log); a != nil {
			sinks, closers = append(sinks, a), append(closers, closeAudit)
		}
	}
	if len(s.Notifiers) > 0 {
		n, flush := notifySink(ctx, s.Notifiers, s.NotifyTimeout, secrets, r, log, clk)
		sinks, closers = append(sinks, n), append(closers, flush)
	}
	return func(ev engine.Event) {
			for _, sink := range sinks {
				sink(ev)
			}
		}, func() {
			for _, c := range closers {
				c()
			}
		}
}

var eventReasons = map[engine.EventKind]string{
	engine.StepDone:   "BlueGreenStep",
	engine.StepUndone: "BlueGreenUndo",
	engine.StepKept:   "BlueGreenKept",
	engine.StepFailed: "BlueGreenStepFailed",
}

// kubeEvents records an Event on every object a finished step touched. The
// API calls run in the background, off the path between a step and the
// next (a rollback's switch back must not wait for an Event); the returned
// func waits until every Event is written.
func kubeEvents(ctx context.Context, rec *kube.Recorder, log *slog.Logger) (func(engine.Event), func()) {
	queue := make(chan func(), 4096)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for record := range queue {
			record()
		}
	}()
	return func(ev engine.Event) {
			reason, ok := eventReasons[ev.Kind]
			if !ok || ev.Step == nil {
				return
			}
			typ, msg := "Normal", fmt.Sprintf("run %s step %s: %s", ev.Run.ID, ev.Step.Name, redact.Text(ev.Step.Description))
			switch ev.Kind {
			case engine.StepUndone:
				msg = fmt.Sprintf("run %s undid step %s", ev.Run.ID, ev.Step.Name)
			case engine.StepKept:
				msg = fmt.Sprintf("run %s kept step %s on rollback: %s", ev.Run.ID, ev.Step.Name, redact.Text(ev.Step.Kept))
			}
			if ev.Err != nil {
				typ, msg = "Warning", fmt.Sprintf("run %s step %s failed: %s", ev.Run.ID, ev.Step.Name, redact.Text(ev.Err.Error()))
			}
			for _, o := range eventObjects(ev) {
				queue <- func() {
					if err := rec.Event(context.WithoutCancel(ctx), o.ns, o.object, reason, msg, typ); err != nil {
						log.Debug("record event", "error", err)
					}
				}
			}
		}, func() {
			close(queue)
			<-done
		}
}

type eventObject struct{ ns, object string }

// eventObjects are the objects an Event about a step goes on: at service
// scope every object the step changed; at cluster scope the StatefulSet of
// a hand-off lane, in the source cluster (the other steps touch DNS and
// AWS, whose trail is the journal and the audit log).
func eventObjects(ev engine.Event) []eventObject {
	if ev.Run.Scope == journal.ScopeCluster {
		ns, name, ok := strings.Cut(ev.Step.Lane, "/")
		if !ok {
			return nil
		}
		return []eventObject{{ns, "statefulset/" + name}}
	}
	var out []eventObject
	seen := map[string]bool{}
	for _, m := range ev.Step.Mutations {
		if !seen[m.Object] {
			seen[m.Object] = true
			out = append(out, eventObject{ev.Run.Namespace, m.Object})
		}
	}
	return out
}

// auditSink appends one record per step transition and per run outcome.
func auditSink(ctx context.Context, path string, secrets *redact.Secrets, log *slog.Logger) (func(engine.Event), func()) {
	a, err := audit.Open(path, secrets)
	if err != nil {
		log.Warn("audit log unavailable", "error", err)
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
			rec.Before = MaskEnvValues(ev.Step.Before)
			switch ev.Kind {
			case engine.StepKept:
				rec.Note = redact.Text(ev.Step.Kept)
			case engine.StepSkipped:
				rec.Note = redact.Text(ev.Step.Note)
			}
		} else if ev.Run.Reason != "" {
			rec.Error = ev.Run.Reason
		}
		if ev.Err != nil {
			rec.Result, rec.Error = "failed", ev.Err.Error()
		}
		if err := a.Append(context.WithoutCancel(ctx), rec); err != nil {
			log.Warn("append audit record", "error", err)
		}
	}, func() { _ = a.Close() }
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

// notifySink posts run-level transitions to the notifiers. The posts run
// in the background (notify.Queue): the engine calls its observers between
// steps, and a rollback must not wait for a webhook. A failed notification
// is logged (redacted) and never fails the release. The returned func
// flushes the queue for at most timeout.
func notifySink(ctx context.Context, targets []notify.Notifier, timeout time.Duration, secrets *redact.Secrets,
	r *journal.Run, log *slog.Logger, clk clock.Clock) (func(engine.Event), func()) {
	q := notify.NewQueue(notify.Multi{Notifiers: targets, Logger: log, Secrets: secrets}, 0, log)
	flush := func() {
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
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
			Time: clk.Now()})
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
