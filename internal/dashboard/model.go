package dashboard

import (
	"context"
	"time"
)

// Verb is an action the dashboard can take on an app.
type Verb string

// The verbs behind the buttons.
const (
	Promote  Verb = "promote"
	Rollback Verb = "rollback"
)

// Verbs are the buttons of an app page, in their order.
var Verbs = []Verb{Promote, Rollback}

// Source reads the apps and acts on them. Reads must show no secret: the
// records are read sealed.
type Source interface {
	// Apps lists the apps under bluegreen, newest run first.
	Apps(ctx context.Context) ([]AppRow, error)
	// App reads one app; an app without runs is ErrNoApp.
	App(ctx context.Context, ns, app string) (*App, error)
	// Do carries verb v out on the app's newest run, to its end, a pause
	// or a wait. When ctx ends, the run stops at its next step boundary,
	// journaled, for `bluegreen resume` to continue.
	Do(ctx context.Context, ns, app string, v Verb) error
}

// AppRow is one line of the list of apps.
type AppRow struct {
	Namespace string    `json:"namespace"`
	App       string    `json:"app"`
	Scope     string    `json:"scope"`
	Active    string    `json:"activeColor,omitempty"`
	Image     string    `json:"image,omitempty"`
	Operation string    `json:"operation"`
	State     string    `json:"state"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// App is the whole view of one app.
type App struct {
	Namespace string `json:"namespace"`
	App       string `json:"app"`
	Scope     string `json:"scope"`
	// Active is the color the active Service selects; empty when none.
	Active   string     `json:"activeColor,omitempty"`
	Colors   []Color    `json:"colors,omitempty"`
	Services []Service  `json:"services,omitempty"`
	Rollback string     `json:"rollback,omitempty"`
	Run      *Run       `json:"run,omitempty"`
	Runs     []RunBrief `json:"runs"`
	// Refused says, per verb, why the newest run cannot take it now
	// (absent when it can): the same rule `bluegreen VERB` applies.
	Refused map[Verb]string `json:"refused,omitempty"`
	// Command is the CLI command of each verb, shown beside its button.
	Command map[Verb]string `json:"command,omitempty"`
}

// Color is one color's Deployment.
type Color struct {
	Name       string `json:"name"`
	Deployment string `json:"deployment"`
	Exists     bool   `json:"exists"`
	Image      string `json:"image,omitempty"`
	Ready      int32  `json:"ready"`
	Desired    int32  `json:"desired"`
	// Traffic is the share of the active Service's ready endpoints, in
	// percent.
	Traffic int `json:"traffic"`
}

// Service is a Service of the app and what it selects.
type Service struct {
	Name    string `json:"name"`
	Selects string `json:"selects"`
}

// Run is a run with its step timeline.
type Run struct {
	RunBrief
	Steps []Step `json:"steps"`
}

// RunBrief is a run in one line.
type RunBrief struct {
	ID        string    `json:"id"`
	Operation string    `json:"operation"`
	State     string    `json:"state"`
	Reason    string    `json:"reason,omitempty"`
	Actor     string    `json:"actor,omitempty"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// Step is one step of a run, as the timeline shows it.
type Step struct {
	Name        string    `json:"name"`
	Description string    `json:"description"`
	State       string    `json:"state"`
	StartedAt   time.Time `json:"startedAt,omitzero"`
	FinishedAt  time.Time `json:"finishedAt,omitzero"`
	Note        string    `json:"note,omitempty"`
	Error       string    `json:"error,omitempty"`
}
