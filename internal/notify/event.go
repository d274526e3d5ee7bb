package notify

import (
	"context"
	"strings"
	"time"
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

// Event is a release milestone worth telling people about. Its JSON
// encoding, with stable lower-camel keys that are always present, is the
// body of JSONWebhook: receivers can rely on the schema without guessing
// which keys an event of some kind leaves out.
type Event struct {
	// Kind is one of the Kind* constants.
	Kind string `json:"kind"`
	App  string `json:"app"`
	// Namespace is the Kubernetes namespace of the release.
	Namespace string `json:"namespace"`
	// Run identifies the bluegreen run.
	Run string `json:"run"`
	// FromColor is the color live before the release; a rollback returns
	// traffic to it.
	FromColor string `json:"fromColor"`
	// ToColor is the color the release deploys and promotes.
	ToColor string `json:"toColor"`
	Image   string `json:"image"`
	// Message adds free text, e.g. the failing check's detail.
	Message string `json:"message"`
	// Time is when the transition happened; JSONWebhook fills in the
	// delivery time when it is zero.
	Time time.Time `json:"time"`
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
