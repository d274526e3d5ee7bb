package cli

import (
	"time"

	"github.com/bluegreen/bluegreen/internal/journal"
)

// stepView is a step as printed; before-states stay in the journal.
type stepView struct {
	Name        string             `json:"name"`
	Kind        string             `json:"kind"`
	Description string             `json:"description"`
	State       journal.StepState  `json:"state"`
	Lane        string             `json:"lane,omitempty"`
	Mutations   []journal.Mutation `json:"mutations,omitempty"`
	Error       string             `json:"error,omitempty"`
	StartedAt   time.Time          `json:"startedAt,omitzero"`
	FinishedAt  time.Time          `json:"finishedAt,omitzero"`
	// UndoStartedAt is when a rollback began undoing the step.
	UndoStartedAt time.Time `json:"undoStartedAt,omitzero"`
	// Kept says why a rollback left the step's change in place.
	Kept string `json:"kept,omitempty"`
}

// runSummary is a run as printed. The release spec is left out: it may hold
// webhook URLs and headers.
type runSummary struct {
	ID        string           `json:"id"`
	Operation string           `json:"operation"`
	Context   string           `json:"context,omitempty"`
	Namespace string           `json:"namespace"`
	App       string           `json:"app"`
	Actor     string           `json:"actor,omitempty"`
	State     journal.RunState `json:"state"`
	Reason    string           `json:"reason,omitempty"`
	// DueAt is when a waiting run's next step is due.
	DueAt     time.Time `json:"dueAt,omitzero"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
	// History is who asked what of the run, from whichever machine.
	History []journal.Action `json:"history,omitempty"`
	Steps   []stepView       `json:"steps,omitempty"`
}

func runView(r *journal.Run) runSummary {
	v := summary(r)
	for _, s := range r.Steps {
		v.Steps = append(v.Steps, stepView{Name: s.Name, Kind: s.Kind, Lane: s.Lane, Description: redactText(s.Description), State: s.State,
			Mutations: redactMutations(s.Mutations), Error: redactText(s.Error), StartedAt: s.StartedAt, FinishedAt: s.FinishedAt,
			UndoStartedAt: s.UndoStartedAt, Kept: redactText(s.Kept)})
	}
	return v
}

// redactMutations returns muts with URL secrets hidden. Plans redact when
// they build steps; this covers runs journaled before they did.
func redactMutations(muts []journal.Mutation) []journal.Mutation {
	if muts == nil {
		return nil
	}
	out := make([]journal.Mutation, len(muts))
	for i, m := range muts {
		out[i] = journal.Mutation{Object: redactText(m.Object), Change: redactText(m.Change)}
	}
	return out
}

func planView(r *journal.Run) runSummary {
	v := runView(r)
	v.ID, v.State, v.CreatedAt, v.UpdatedAt, v.History = "", "planned", time.Time{}, time.Time{}, nil
	return v
}

func summary(r *journal.Run) runSummary {
	return runSummary{ID: r.ID, Operation: r.Operation, Context: r.Context, Namespace: r.Namespace, App: r.App,
		Actor: r.Actor, State: r.State, Reason: redactText(r.Reason), DueAt: r.DueAt, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt, History: r.History}
}
