package plan

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/bluegreen/bluegreen/internal/journal"
	"github.com/bluegreen/bluegreen/internal/redact"
)

// ErrInvalid marks bad input found while planning; the CLI exits 2 on it.
var ErrInvalid = errors.New("invalid input")

func invalid(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, a...))
}

// Step kinds of the service scope. Each has one action in package service.
const (
	KindMirrorHPA   = "mirror-hpa"
	KindHoldHPA     = "hold-hpa"
	KindSetImage    = "set-image"
	KindScale       = "scale"
	KindWaitRollout = "wait-rollout"
	KindChecks      = "checks"
	KindApprove     = "approve"
	KindSwitch      = "switch"
	KindWatch       = "watch"
	KindScaleDown   = "scale-down"
)

// Target names the Deployment a step acts on.
type Target struct {
	Namespace  string `json:"namespace"`
	Deployment string `json:"deployment"`
	Color      Color  `json:"color"`
}

// MirrorHPAParams gives To an HPA with the spec of FromHPA: it creates NewHPA,
// or, when To already has one (NewHPA), sets its spec.
type MirrorHPAParams struct {
	Target
	FromHPA string `json:"fromHPA"`
	NewHPA  string `json:"newHPA"`
}

// HoldHPAParams keeps the HPA of a color that serves no traffic from
// shrinking it: minReplicas (and maxReplicas if lower) are raised to the
// replica count of FloorFrom when the step runs.
type HoldHPAParams struct {
	Target
	HPA       string `json:"hpa"`
	FloorFrom string `json:"floorFrom"`
}

// SetImageParams sets the image (and env) of one container.
type SetImageParams struct {
	Target
	Container string            `json:"container"`
	Image     string            `json:"image"`
	Env       map[string]string `json:"env,omitempty"`
	// KeepAfterSwitch leaves the new image in place when a run that
	// switched production is rolled back, so the version can be inspected
	// and re-tested through the preview Service.
	KeepAfterSwitch bool `json:"keepAfterSwitch,omitempty"`
	// RetestVia says where a kept image is re-tested (default: the
	// preview Service).
	RetestVia string `json:"retestVia,omitempty"`
}

// ScaleParams scales a Deployment. FromActive means "to the active color's
// replica count at the moment the step runs" (so a HPA-driven count is
// followed); otherwise Replicas is used.
type ScaleParams struct {
	Target
	Replicas   int32  `json:"replicas"`
	FromActive string `json:"fromActive,omitempty"`
	// FromNamespace is FromActive's namespace (default: the target's); the
	// namespace scope's active color is in the other namespace.
	FromNamespace string `json:"fromNamespace,omitempty"`
	// KeepAfterSwitch: when a run that switched production is rolled
	// back, the new color is not scaled back to its old count but keeps
	// its pods (KeepWarm nil) or is scaled to KeepWarm.
	KeepAfterSwitch bool   `json:"keepAfterSwitch,omitempty"`
	KeepWarm        *int32 `json:"keepWarm,omitempty"`
	// Again marks a scale that repeats an earlier one of the same
	// Deployment in the run (rescale-idle after scale-idle): the earlier
	// step's undo covers both, so this one is skipped when the count is
	// right already.
	Again bool `json:"again,omitempty"`
}

// FromNS is the namespace of FromActive.
func (p ScaleParams) FromNS() string {
	if p.FromNamespace != "" {
		return p.FromNamespace
	}
	return p.Namespace
}

// WaitRolloutParams waits until a Deployment's rollout completes.
type WaitRolloutParams struct {
	Target
	Timeout Duration `json:"timeout"`
}

// ChecksParams runs the release's checks against a color.
type ChecksParams struct {
	Target
	Image   string `json:"image"`
	BaseURL string `json:"baseURL,omitempty"`
	Phase   string `json:"phase"`
}

// SwitchParams points the active Service at To and the preview at From.
type SwitchParams struct {
	Namespace      string `json:"namespace"`
	ActiveService  string `json:"activeService"`
	PreviewService string `json:"previewService"`
	ColorLabel     string `json:"colorLabel"`
	From           Color  `json:"from"`
	To             Color  `json:"to"`
	App            string `json:"app"`
	// MinReadyFrom names the Deployment (the active color) whose ready count
	// To must reach before the switch, waiting at most ReadyTimeout.
	MinReadyFrom string   `json:"minReadyFrom,omitempty"`
	ReadyTimeout Duration `json:"readyTimeout,omitempty"`
}

// WatchParams watches the new active color for Window.
type WatchParams struct {
	ChecksParams
	Window   Duration `json:"window"`
	Interval Duration `json:"interval"`
}

// ScaleDownParams scales the old color to KeepWarm once Delay has passed
// since the switch step finished.
type ScaleDownParams struct {
	Target
	KeepWarm   int32    `json:"keepWarm"`
	Delay      Duration `json:"delay"`
	SwitchStep string   `json:"switchStep"`
}

// step builds a step. Its description is redacted here, where every
// description is made: descriptions are printed, recorded as Events and
// audited, while params (which may hold env values and URLs with
// credentials) stay in the journal only.
func step(name, kind, desc string, params any, muts ...journal.Mutation) journal.Step {
	raw, err := json.Marshal(params)
	if err != nil {
		panic(fmt.Sprintf("plan: marshal %s params: %v", name, err)) // params are plain structs
	}
	return journal.Step{Name: name, Kind: kind, Description: redact.Text(desc), Params: raw, Mutations: muts, State: journal.Pending}
}

// mut builds a mutation, redacted like a step's description.
func mut(object, format string, a ...any) journal.Mutation {
	return journal.Mutation{Object: redact.Text(object), Change: redact.Text(fmt.Sprintf(format, a...))}
}

// ActiveColor validates the Services of an app and returns which color the
// active Service selects.
func ActiveColor(obs ServiceObserved, app, colorLabel string) (Color, error) {
	if !obs.NamespaceExists {
		return "", invalid("namespace %q does not exist (check -n/--namespace)", obs.Namespace)
	}
	if obs.Active == nil {
		return "", invalid("app %q: active Service %s/%s not found (run `bluegreen init %s` to create the blue/green layout, or set --active-service)", app, obs.Namespace, activeName(app, obs), app)
	}
	if obs.Preview == nil {
		return "", invalid("app %q: preview Service not found in namespace %s (run `bluegreen init %s`, or set --preview-service)", app, obs.Namespace, app)
	}
	active := Color(obs.Active.Selector[colorLabel])
	if !active.Valid() {
		return "", invalid("Service %s/%s: selector %s=%q matches neither color (want %s=blue or %s=green; set --color-label if you use another key)",
			obs.Namespace, obs.Active.Name, colorLabel, obs.Active.Selector[colorLabel], colorLabel, colorLabel)
	}
	preview := Color(obs.Preview.Selector[colorLabel])
	if preview == active {
		return "", invalid("Services %s and %s both select %s=%s: the preview must select the idle color (patch %s to %s=%s)",
			obs.Active.Name, obs.Preview.Name, colorLabel, active, obs.Preview.Name, colorLabel, active.Other())
	}
	if !preview.Valid() {
		return "", invalid("Service %s/%s: selector %s=%q matches neither color (want %s=%s)", obs.Namespace, obs.Preview.Name, colorLabel, preview, colorLabel, active.Other())
	}
	for _, c := range []Color{Blue, Green} {
		if obs.Deployments[c] == nil {
			return "", invalid("app %q: Deployment %s/%s not found (run `bluegreen init %s`)", app, obs.Namespace, DeploymentName(app, c), app)
		}
	}
	if obs.Deployments[active].ReadyReplicas == 0 {
		return "", invalid("active color %s (Deployment %s) has zero ready pods: production is already down; fix it before releasing (bluegreen never switches from or to a color without ready pods)",
			active, obs.Deployments[active].Name)
	}
	return active, nil
}

func activeName(app string, obs ServiceObserved) string {
	if obs.Active != nil {
		return obs.Active.Name
	}
	return app
}

// selectorString renders a selector stably for mutations.
func selectorString(sel map[string]string) string {
	keys := make([]string, 0, len(sel))
	for k := range sel {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + sel[k]
	}
	return strings.Join(parts, ",")
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
