//go:build !lean

package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/bluegreen/bluegreen/internal/engine"
	"github.com/bluegreen/bluegreen/internal/journal"
	"github.com/bluegreen/bluegreen/internal/migrate"
	"github.com/bluegreen/bluegreen/internal/run"
	"github.com/bluegreen/bluegreen/internal/run/clusterscope"
)

func newMigrateCmd(g *Global) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "migrate",
		Short: migrateShort,
		Long: `migrate runs a cluster-scope blue-green from a spec file: preflight (the runbook's
worksheet), a scan for APIs removed in B's Kubernetes version, a warm standby of
the stateless workloads in B, the hand-off of each StatefulSet's EBS volumes
from A to B, and weighted DNS stepping from A to B with checks between steps.
Every step is recorded in cluster A (with a copy in B) before it acts: a killed
run resumes from any machine, and rollback returns everything to A.`,
	}
	cmd.AddCommand(newMigratePreflightCmd(g), newMigratePlanCmd(g), newMigrateApplyCmd(g),
		newMigrateResumeCmd(g), newMigratePromoteCmd(g), newMigrateAbortCmd(g), newMigrateRollbackCmd(g),
		newMigrateStatusCmd(g), newMigrateUnlockCmd(g))
	return cmd
}

func newMigratePreflightCmd(g *Global) *cobra.Command {
	var f migrateFlags
	cmd := &cobra.Command{
		Use:     "preflight -f SPEC",
		Short:   "Check the runbook's worksheet and scan for removed APIs; change nothing",
		Example: `  bluegreen migrate preflight -f migration.yaml`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			s, err := g.migrateSession(ctx, &f)
			if err != nil {
				return err
			}
			obs, err := migrate.Observe(ctx, s.env, s.m)
			if err != nil {
				return err
			}
			return s.preflight(ctx, obs, true)
		},
	}
	f.bindSpec(cmd)
	return cmd
}

func newMigratePlanCmd(g *Global) *cobra.Command {
	var f migrateFlags
	cmd := &cobra.Command{
		Use:   "plan -f SPEC",
		Short: "Print the migration's steps and every change they would make; change nothing",
		Example: `  bluegreen migrate plan -f migration.yaml
  bluegreen migrate plan -f migration.yaml --steps 50,100 -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			s, err := g.migrateSession(ctx, &f)
			if err != nil {
				return err
			}
			r, err := clusterscope.ObserveAndPlan(ctx, g.clock, s.env, s.src.Context, s.m)
			if err != nil {
				return err
			}
			return g.printMigrationPlan(r)
		},
	}
	f.bindSpec(cmd)
	f.bindRun(cmd)
	return cmd
}

func newMigrateApplyCmd(g *Global) *cobra.Command {
	var f migrateFlags
	cmd := &cobra.Command{
		Use:   "apply -f SPEC",
		Short: "Run the migration: preflight, plan, then every step, journaled",
		Example: `  bluegreen migrate apply -f migration.yaml
  bluegreen migrate apply -f migration.yaml --steps 50,100 --pause 5m
  bluegreen migrate apply -f migration.yaml --force-detach
  bluegreen migrate apply -f migration.yaml --snapshot-timeout 12h`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			s, err := g.migrateSession(ctx, &f)
			if err != nil {
				return err
			}
			if err := run.RefuseUnfinished(ctx, s.store, g.log, run.MigrationKey(s.m.Name), s.src.Context, migrateCommands(f.file)); err != nil {
				return err
			}
			// One read of both clusters serves preflight and the plan.
			obs, err := migrate.Observe(ctx, s.env, s.m)
			if err != nil {
				return err
			}
			if !f.skipPreflight {
				if err := s.preflight(ctx, obs, false); err != nil {
					return err
				}
			}
			r, err := run.PlanMigration(g.clock, s.src.Context, obs, s.m)
			if err != nil {
				return err
			}
			if !g.structured() { // one document: the outcome, which holds the steps
				if err := g.printMigrationPlan(r); err != nil {
					return err
				}
			}
			// Recorded by the engine's first write, once the Lease is held.
			err = s.executeMigration(ctx, r, func(ctx context.Context, e *engine.Engine) error { return e.Run(ctx, r) })
			s.pruneHistory(ctx, s.m.Name)
			return s.finishMigration(r, f.file, err)
		},
	}
	f.bindSpec(cmd)
	f.bindRun(cmd)
	cmd.Flags().BoolVar(&f.skipPreflight, "skip-preflight", false, "run even if preflight fails (each failure is still printed)")
	return cmd
}

func newMigrateResumeCmd(g *Global) *cobra.Command {
	var f migrateFlags
	cmd := &cobra.Command{
		Use:     "resume -f SPEC",
		Short:   "Continue an interrupted or paused migration (or its rollback) from its record in cluster A",
		Example: `  bluegreen migrate resume -f migration.yaml`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return g.continueMigration(cmd.Context(), &f, run.Resume, false)
		},
	}
	f.bindSpec(cmd)
	return cmd
}

func newMigratePromoteCmd(g *Global) *cobra.Command {
	var f migrateFlags
	cmd := &cobra.Command{
		Use:   "promote -f SPEC",
		Short: "Approve the next shift of a migration paused at an approval gate (--approve-each-step)",
		Long: `promote lets a migration paused at an approval gate take its next shift: the
weights move, the pause passes, the checks run, and the run stops at the next
gate. One promote lets exactly one shift through.`,
		Example: `  bluegreen migrate promote -f migration.yaml`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return g.continueMigration(cmd.Context(), &f, run.Promote, false)
		},
	}
	f.bindSpec(cmd)
	return cmd
}

func newMigrateAbortCmd(g *Global) *cobra.Command {
	var f migrateFlags
	cmd := &cobra.Command{
		Use:   "abort -f SPEC",
		Short: "Stop a paused or running migration and undo it: all traffic and every volume back to cluster A",
		Long: `abort stops a migration that has not finished. A paused run is undone here,
newest step first, like rollback; a run in progress elsewhere is asked to stop
through its lease in cluster A, and undoes itself. The run ends aborted. A
finished migration needs rollback instead.`,
		Example: `  bluegreen migrate abort -f migration.yaml`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return g.continueMigration(cmd.Context(), &f, run.Abort, false)
		},
	}
	f.bindSpec(cmd)
	return cmd
}

func newMigrateRollbackCmd(g *Global) *cobra.Command {
	var f migrateFlags
	var dryRun bool
	cmd := &cobra.Command{
		Use:   "rollback -f SPEC",
		Short: "Send all traffic back to cluster A and return every handed-off StatefulSet there with its volume",
		Long: `rollback walks the undos of the migration's last run, newest first: the weights
go back to 100/0 first (one Route 53 change), internal CNAMEs point at A again,
then each StatefulSet is stopped in B, its volume detached and re-bound to its
claim in A, and started there. No volume is ever deleted.`,
		Example: `  bluegreen migrate rollback -f migration.yaml
  bluegreen migrate rollback -f migration.yaml --dry-run`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return g.continueMigration(cmd.Context(), &f, run.Rollback, dryRun)
		},
	}
	f.bindSpec(cmd)
	dryRunVar(cmd.Flags(), &dryRun, "print the undos a rollback would run, newest first, and run none", noServerUndo)
	return cmd
}

func newMigrateStatusCmd(g *Global) *cobra.Command {
	var f migrateFlags
	cmd := &cobra.Command{
		Use:     "status -f SPEC",
		Short:   "Show the migration's last run, the live weights and, once done, the verified checklist",
		Example: `  bluegreen migrate status -f migration.yaml -o json`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			s, err := g.migrateSession(ctx, &f)
			if err != nil {
				return err
			}
			r, err := s.lastMigration(ctx)
			if err != nil {
				return err
			}
			return s.printMigrationStatus(ctx, r)
		},
	}
	f.bindSpec(cmd)
	return cmd
}

// continueMigration loads the migration's last run, checks that it can
// take verb v, and drives it on with the Lease held; a dry run prints the
// undos a rollback would run.
func (g *Global) continueMigration(ctx context.Context, f *migrateFlags, v run.Verb, dryRun bool) error {
	s, err := g.migrateSession(ctx, f)
	if err != nil {
		return err
	}
	if v == run.Abort {
		if asked, err := g.requestAbort(ctx, s.src.Lease, run.MigrationKey(s.m.Name), "migration"); asked || err != nil {
			return err
		}
	}
	r, err := s.lastMigration(ctx)
	if err != nil {
		return err
	}
	if err := run.Check(v, r, migrateCommands(f.file)); err != nil {
		return err
	}
	if dryRun {
		return s.g.printUndos(r)
	}
	err = s.executeMigration(ctx, r, func(ctx context.Context, e *engine.Engine) error { return run.Drive(ctx, e, v, r) })
	return s.finishMigration(r, f.file, err)
}

// migrateCommands names the command of each verb on the spec file.
func migrateCommands(file string) run.Commands {
	return func(v run.Verb) string { return fmt.Sprintf("bluegreen migrate %s -f %s", v, file) }
}

// finishMigration prints the outcome and, on success, the checklist.
func (s *migrateSession) finishMigration(r *journal.Run, file string, err error) error {
	switch {
	case errors.Is(err, engine.ErrPaused) && run.PausedGate(r) != nil:
		s.g.printf("Paused: %s\nApprove the next shift with `bluegreen migrate promote -f %s`, or stop and return to the source cluster with `bluegreen migrate abort -f %s`.\n", r.Reason, file, file)
		err = nil // a gate the operator asked for, like the service scope's
	case errors.Is(err, engine.ErrPaused):
		s.g.printf("Paused: %s\nContinue with `bluegreen migrate resume -f %s`, or return to the source cluster with `bluegreen migrate rollback -f %s`.\n", r.Reason, file, file)
		err = fmt.Errorf("migration paused: %s", r.Reason)
	case errors.Is(err, engine.ErrInterrupted):
		err = fmt.Errorf("%w; the run is journaled: continue with `bluegreen migrate resume -f %s`", err, file)
	}
	if s.g.structured() {
		if jerr := s.g.emit("Migration", r.App, migrationView(r)); jerr != nil {
			return jerr
		}
		return err
	}
	if v := r.Step("verify"); r.State == journal.Succeeded && v != nil && len(v.Output) > 0 {
		var items []migrate.Item
		if json.Unmarshal(v.Output, &items) == nil {
			s.g.printChecklist(items)
		}
	}
	if err == nil {
		s.g.printf("Migration run %s %s.\n", r.ID, r.State)
	}
	return err
}

func newMigrateUnlockCmd(g *Global) *cobra.Command {
	var f migrateFlags
	var yes bool
	cmd := &cobra.Command{
		Use:     "unlock -f SPEC",
		Short:   "Break the migration's Lease in cluster A by force (see `bluegreen unlock`)",
		Example: `  bluegreen migrate unlock -f migration.yaml --yes`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			m, err := f.spec()
			if err != nil {
				return err
			}
			src, _, err := g.connectCluster(ctx, "source", m.Source, m.Handoff.Parallelism)
			if err != nil {
				return err
			}
			return g.unlock(ctx, src.Lease, run.MigrationKey(m.Name), yes)
		},
	}
	f.bindSpec(cmd)
	cmd.Flags().BoolVar(&yes, "yes", false, "break the Lease even when its holder looks alive")
	return cmd
}
