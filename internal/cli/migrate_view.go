//go:build !lean

package cli

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/bluegreen/bluegreen/internal/journal"
	"github.com/bluegreen/bluegreen/internal/migrate"
	"github.com/bluegreen/bluegreen/internal/run/clusterscope"
)

// migrationSummary is a migration run as printed: the run, the live
// weights and the verification checklist.
type migrationSummary struct {
	runSummary
	Weights   map[string]map[string]int `json:"weights,omitempty"`
	Checklist []migrate.Item            `json:"checklist,omitempty"`
}

func migrationView(r *journal.Run) migrationSummary {
	v := migrationSummary{runSummary: runView(r)}
	if st := r.Step("verify"); r.State == journal.Succeeded && st != nil && len(st.Output) > 0 {
		_ = json.Unmarshal(st.Output, &v.Checklist)
	}
	return v
}

func (g *Global) printMigrationPlan(r *journal.Run) error {
	if g.structured() {
		v := migrationView(r)
		v.ID, v.State, v.CreatedAt, v.UpdatedAt = "", "planned", r.CreatedAt, r.UpdatedAt
		return g.emit("MigrationPlan", r.App, v)
	}
	fmt.Fprintf(g.out, "Plan: migrate %s from %s (%d steps; steps in the same lane run in order, lanes side by side)\n", r.App, r.Context, len(r.Steps))
	lane := ""
	for i, st := range r.Steps {
		if st.Lane != lane {
			lane = st.Lane
			if lane != "" {
				fmt.Fprintf(g.out, "    lane %s:\n", lane)
			}
		}
		fmt.Fprintf(g.out, "%2d. %-36s %s\n", i+1, st.Name, redactText(st.Description))
		for _, m := range st.Mutations {
			fmt.Fprintf(g.out, "      ~ %s: %s\n", redactText(m.Object), redactText(m.Change))
		}
	}
	return nil
}

func (g *Global) printChecklist(items []migrate.Item) {
	g.printf("Verification checklist (checked, not assumed):\n")
	for _, it := range items {
		mark := "✓"
		if !it.OK {
			mark = "✗"
		}
		g.printf("  %s %-60s %s\n", mark, it.Name, it.Detail)
	}
}

func (s *migrateSession) printMigrationStatus(ctx context.Context, r *journal.Run) error {
	v := migrationView(r)
	weights, checklist := clusterscope.Status(ctx, s.env, r, s.g.log)
	v.Weights = weights
	if checklist != nil { // re-verified now; else the one journaled, if any
		v.Checklist = checklist
	}
	if s.g.structured() {
		return s.g.emit("MigrationStatus", r.App, v)
	}
	s.g.printf("Migration %s: run %s %s", r.App, r.ID, r.State)
	if r.Reason != "" {
		s.g.printf(" (%s)", redactText(r.Reason))
	}
	s.g.printf("\n")
	for name, w := range v.Weights {
		s.g.printf("  traffic %s: blue (source) %d%%, green (target) %d%%\n", name, w["blue"], w["green"])
	}
	done := 0
	for _, st := range r.Steps {
		if st.State == journal.Done {
			done++
		}
	}
	s.g.printf("  steps done: %d of %d\n", done, len(r.Steps))
	for _, st := range r.Steps {
		if st.State != journal.Done && st.State != journal.Pending && st.State != journal.Undone {
			s.g.printf("  %-36s %s %s\n", st.Name, st.State, redactText(st.Error))
		}
	}
	if len(v.Checklist) > 0 {
		s.g.printChecklist(v.Checklist)
	}
	return nil
}
