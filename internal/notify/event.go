package notify

import (
	"context"
	"strings"
)

// Event kinds.
const (
	KindStarted    = "started"
	KindPaused     = "paused"
	KindPromoted   = "promoted"
	KindRolledBack = "rolled-back"
	KindFailed     = "failed"
	KindAborted    = "aborted"
	KindSucceeded  = "succeeded"
)

// Event is a release milestone worth telling people about.
type Event struct {
	// Kind is one of the Kind* constants.
	Kind string
	App  string
	// Namespace is the Kubernetes namespace of the release.
	Namespace string
	// Run identifies the bluegreen run.
	Run string
	// FromColor is the color live before the release; a rollback returns
	// traffic to it.
	FromColor string
	// ToColor is the color the release deploys and promotes.
	ToColor string
	Image   string
	// Message adds free text, e.g. the failing check's detail.
	Message string
}

// Notifier delivers events.
type Notifier interface {
	// Notify delivers e, or returns why it could not.
	Notify(ctx context.Context, e Event) error
}

var emojis = map[string]string{
	KindStarted:    ":rocket:",
	KindPaused:     ":double_vertical_bar:",
	KindPromoted:   ":large_green_circle:",
	KindRolledBack: ":rewind:",
	KindFailed:     ":red_circle:",
	KindAborted:    ":no_entry_sign:",
	KindSucceeded:  ":white_check_mark:",
}

// Text returns the event as a readable one-line message, e.g.
// ":large_green_circle: myapp promoted to green (image reg/myapp:1.2) in
// namespace prod — run 01H…". It is plain text: Slack escaping is applied by
// the Slack notifier.
func (e Event) Text() string {
	emoji, ok := emojis[e.Kind]
	if !ok {
		emoji = ":information_source:"
	}
	app := e.App
	if app == "" {
		app = "release"
	}
	var b strings.Builder
	b.WriteString(emoji + " " + app + " " + e.phrase())
	if e.Image != "" {
		b.WriteString(" (image " + e.Image + ")")
	}
	if e.Namespace != "" {
		b.WriteString(" in namespace " + e.Namespace)
	}
	if e.Run != "" {
		b.WriteString(" — run " + e.Run)
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	return b.String()
}

// phrase describes what happened.
func (e Event) phrase() string {
	to := ""
	if e.ToColor != "" {
		to = " to " + e.ToColor
	}
	switch e.Kind {
	case KindStarted:
		if e.FromColor != "" && e.ToColor != "" {
			return "release started: " + e.FromColor + " → " + e.ToColor
		}
		return "release started" + to
	case KindPromoted:
		return "promoted" + to
	case KindRolledBack:
		if e.FromColor != "" {
			return "rolled back to " + e.FromColor
		}
		return "rolled back"
	case KindPaused, KindFailed, KindAborted, KindSucceeded:
		return "release" + to + " " + e.Kind
	case "":
		return "event"
	default:
		return e.Kind
	}
}
