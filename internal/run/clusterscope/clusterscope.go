// Package clusterscope is the half of package run that a migration needs
// and a release of the other scopes does not: the preflight, the plan
// from both clusters, and the status of a migration, over the AWS SDK and
// the other cluster. Kept apart so that a command at service or namespace
// scope links none of it.
package clusterscope

import (
	"context"
	"log/slog"

	"github.com/bluegreen/bluegreen/internal/clock"
	"github.com/bluegreen/bluegreen/internal/journal"
	"github.com/bluegreen/bluegreen/internal/migrate"
	"github.com/bluegreen/bluegreen/internal/plan"
	"github.com/bluegreen/bluegreen/internal/run"
)

// ObserveAndPlan reads both clusters through env (no write) and
// plans migration m.
func ObserveAndPlan(ctx context.Context, clk clock.Clock, env migrate.Env, kctx string, m plan.Migration) (*journal.Run, error) {
	obs, err := migrate.Observe(ctx, env, m)
	if err != nil {
		return nil, err
	}
	return run.PlanMigration(clk, kctx, obs, m)
}

// Status reads a migration's live weights, one split per record
// (a record that cannot be read is logged and left out), and, once run r
// succeeded, re-verifies its checklist. It writes nothing.
func Status(ctx context.Context, env migrate.Env, r *journal.Run, log *slog.Logger) (map[string]map[string]int, []migrate.Item) {
	weights := map[string]map[string]int{}
	for _, t := range env.Records {
		if split, err := env.Router.Observe(ctx, t); err == nil {
			weights[t.Name] = split
		} else {
			log.Warn("observe weights", "record", t.Name, "error", err)
		}
	}
	var checklist []migrate.Item
	if r.State == journal.Succeeded {
		checklist = env.Verify(ctx, r)
	}
	return weights, checklist
}
