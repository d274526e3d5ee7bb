package cli

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/bluegreen/bluegreen/internal/engine"
	"github.com/bluegreen/bluegreen/internal/journal"
	"github.com/bluegreen/bluegreen/internal/kube"
)

// observer fans every engine transition out to the live view, the audit log,
// Kubernetes Events and the notification webhooks. It returns a func that
// flushes and closes them.
func (s *session) observer(ctx context.Context, r *journal.Run) (func(engine.Event), func()) {
	events, closeEvents := s.kubeEvents(ctx)
	sinks := []func(engine.Event){s.liveView, events}
	audit, closeAudit := s.auditSink(ctx, r)
	if audit != nil {
		sinks = append(sinks, audit)
	}
	n, flushNotify := s.notifySink(ctx, r)
	if n != nil {
		sinks = append(sinks, n)
	}
	return func(ev engine.Event) {
			for _, sink := range sinks {
				sink(ev)
			}
		}, func() {
			closeEvents()
			if closeAudit != nil {
				closeAudit()
			}
			if flushNotify != nil {
				flushNotify()
			}
		}
}

// liveView prints one line per step transition, like the runbook being ticked.
func (s *session) liveView(ev engine.Event) {
	if s.g.Output != "text" {
		return
	}
	if ev.Step == nil {
		switch ev.Kind {
		case engine.RunRunning:
			if ev.Run.Namespace == "" {
				s.g.printf("Run %s: %s %s\n", ev.Run.ID, ev.Run.Operation, ev.Run.App)
			} else {
				s.g.printf("Run %s: %s %s/%s\n", ev.Run.ID, ev.Run.Operation, ev.Run.Namespace, ev.Run.App)
			}
		case engine.RunRollingBack:
			s.g.printf("Rolling back: %s\n", redactText(ev.Run.Reason))
		}
		return
	}
	w := nameWidth(ev.Run)
	switch ev.Kind {
	case engine.StepStarted:
		s.g.printf("  → %-*s %s\n", w, ev.Step.Name, redactText(ev.Step.Description))
	case engine.StepDone:
		s.g.printf("  ✓ %-*s %s\n", w, ev.Step.Name, round(ev.Elapsed))
	case engine.StepFailed:
		s.g.printf("  ✗ %-*s %s\n", w, ev.Step.Name, redactErr(ev.Err))
	case engine.StepUndoing:
		s.g.printf("  ↶ %-*s undoing\n", w, ev.Step.Name)
	case engine.StepUndone:
		s.g.printf("  ↶ %-*s undone %s\n", w, ev.Step.Name, round(ev.Elapsed))
	case engine.StepKept:
		s.g.printf("  ↶ %-*s kept: %s\n", w, ev.Step.Name, redactText(ev.Step.Kept))
	}
}

// nameWidth is the column width of a run's step names (at least 16).
func nameWidth(r *journal.Run) int {
	w := 16
	for _, s := range r.Steps {
		w = max(w, len(s.Name))
	}
	return w
}

func round(d time.Duration) string {
	if d < time.Second {
		return d.Round(time.Millisecond).String()
	}
	return d.Round(10 * time.Millisecond).String()
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
func (s *session) kubeEvents(ctx context.Context) (func(engine.Event), func()) {
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
			typ, msg := "Normal", fmt.Sprintf("run %s step %s: %s", ev.Run.ID, ev.Step.Name, redactText(ev.Step.Description))
			switch ev.Kind {
			case engine.StepUndone:
				msg = fmt.Sprintf("run %s undid step %s", ev.Run.ID, ev.Step.Name)
			case engine.StepKept:
				msg = fmt.Sprintf("run %s kept step %s on rollback: %s", ev.Run.ID, ev.Step.Name, redactText(ev.Step.Kept))
			}
			if ev.Err != nil {
				typ, msg = "Warning", fmt.Sprintf("run %s step %s failed: %s", ev.Run.ID, ev.Step.Name, redactErr(ev.Err))
			}
			for _, o := range eventObjects(ev) {
				queue <- func() {
					if err := kube.Event(context.WithoutCancel(ctx), s.clients.Kube, o.ns, o.object, reason, msg, typ); err != nil {
						s.g.log.Debug("record event", "error", err)
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
