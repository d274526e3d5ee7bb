package journal

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// RunState is where a run stands as a whole.
type RunState string

// Run states. A run is live while Running, Paused or RollingBack; the others
// are final.
const (
	Running RunState = "running"
	Paused  RunState = "paused"
	// Waiting: a step is due later (a scale-down delay); no process waits
	// for it. Any later command on the run, or resume, carries it out.
	Waiting     RunState = "waiting"
	Succeeded   RunState = "succeeded"
	RollingBack RunState = "rolling-back"
	RolledBack  RunState = "rolled-back"
	Aborted     RunState = "aborted"
	Failed      RunState = "failed"
)

// Final reports whether no further step of the run will execute.
func (s RunState) Final() bool {
	switch s {
	case Succeeded, RolledBack, Aborted, Failed:
		return true
	}
	return false
}

// StepState is where one step stands.
type StepState string

// Step states. Started means the before-state is recorded and the action may
// or may not have reached the cluster; every action is idempotent, so a
// resumed run simply performs it again.
const (
	Pending StepState = "pending"
	Started StepState = "started"
	Done    StepState = "done"
	Skipped StepState = "skipped"
	Undoing StepState = "undoing"
	Undone  StepState = "undone"
	Errored StepState = "failed"
)

// Mutation is one write a step makes, as shown by plan and --dry-run.
type Mutation struct {
	Object string `json:"object"`
	Change string `json:"change"`
}

// Step is one runbook line of a run: what to do (Kind and Params, executed by
// an action registered for Kind), what it changes, and what happened.
type Step struct {
	Name        string          `json:"name"`
	Kind        string          `json:"kind"`
	Description string          `json:"description"`
	Params      json.RawMessage `json:"params,omitempty"`
	Mutations   []Mutation      `json:"mutations,omitempty"`
	// Lane, when set, puts the step in a parallel block: consecutive steps
	// with a lane form one block, each lane's steps run in order and the
	// lanes run side by side (independent StatefulSets handing off at once).
	Lane string `json:"lane,omitempty"`

	State      StepState       `json:"state"`
	Before     json.RawMessage `json:"before,omitempty"`
	Output     json.RawMessage `json:"output,omitempty"`
	Error      string          `json:"error,omitempty"`
	Attempts   int             `json:"attempts,omitempty"`
	StartedAt  time.Time       `json:"startedAt,omitzero"`
	FinishedAt time.Time       `json:"finishedAt,omitzero"`
	// UndoStartedAt is when the step's undo began: with FinishedAt of the
	// step that failed, it tells how long a rollback took to start.
	UndoStartedAt time.Time `json:"undoStartedAt,omitzero"`
	// Kept says why a rollback left the step's change in place on purpose
	// (its undo returned engine.Keep), e.g. a new image kept for re-testing.
	Kept string `json:"kept,omitempty"`
	// Note says why a skipped step had nothing to change, e.g. "shop-green
	// has 3 replicas already".
	Note string `json:"note,omitempty"`
}

// DecodeParams unmarshals the step's parameters into v.
func (s *Step) DecodeParams(v any) error {
	if len(s.Params) == 0 {
		return nil
	}
	if err := json.Unmarshal(s.Params, v); err != nil {
		return fmt.Errorf("step %s: decode params: %w", s.Name, err)
	}
	return nil
}

// DecodeBefore unmarshals the step's recorded before-state into v.
func (s *Step) DecodeBefore(v any) error {
	if len(s.Before) == 0 {
		return fmt.Errorf("step %s: no before-state recorded", s.Name)
	}
	if err := json.Unmarshal(s.Before, v); err != nil {
		return fmt.Errorf("step %s: decode before-state: %w", s.Name, err)
	}
	return nil
}

// Scope is what a run switches: one app's Services, or whole clusters.
type Scope string

// The scopes.
const (
	// ScopeService is a release of one app between two Deployments
	// behind an active and a preview Service.
	ScopeService Scope = "service"
	// ScopeCluster is a migration from cluster A to cluster B.
	ScopeCluster Scope = "cluster"
	// ScopeNamespace is a release of a product's services between two
	// namespaces behind gateways.
	ScopeNamespace Scope = "namespace"
)

// Run is one execution of a plan against one environment.
type Run struct {
	// Schema is the record layout; it is written as SchemaVersion (see
	// MarshalJSON) and a record without one reads as 1.
	Schema    int    `json:"schema"`
	ID        string `json:"id"`
	Scope     Scope  `json:"scope"`
	Operation string `json:"operation"`
	Context   string `json:"context,omitempty"`
	Namespace string `json:"namespace"`
	App       string `json:"app"`
	Actor     string `json:"actor,omitempty"`

	// Spec is the validated release spec the plan was compiled from.
	Spec json.RawMessage `json:"spec,omitempty"`

	State  RunState `json:"state"`
	Reason string   `json:"reason,omitempty"`
	// DueAt is when a waiting run's next step is due.
	DueAt    time.Time `json:"dueAt,omitzero"`
	Approved bool      `json:"approved,omitempty"`
	Steps    []Step    `json:"steps"`
	// History lists who asked what of the run, from whichever machine:
	// its start, then every promote, resume, rollback and abort.
	History []Action `json:"history,omitempty"`

	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// Action is one request on a run.
type Action struct {
	At    time.Time `json:"at"`
	Actor string    `json:"actor"`
	// Verb is the run's operation for its start ("deploy", "migrate"),
	// then "promote", "resume", "rollback" or "abort".
	Verb string `json:"verb"`
}

// Step returns the step with the given name, or nil.
func (r *Run) Step(name string) *Step {
	for i := range r.Steps {
		if r.Steps[i].Name == name {
			return &r.Steps[i]
		}
	}
	return nil
}

// Environment names what a run's lock protects: one app in one namespace of
// one cluster context.
func (r *Run) Environment() string {
	return fmt.Sprintf("%s/%s/%s/%s", r.Scope, r.Context, r.Namespace, r.App)
}

// NewID returns a run ID that sorts by creation time.
func NewID(now time.Time) string {
	var b [3]byte
	_, _ = rand.Read(b[:])
	return now.UTC().Format("20060102-150405.000") + "-" + hex.EncodeToString(b[:])
}

// ErrNotFound is returned when no run matches.
var ErrNotFound = errors.New("run not found")
