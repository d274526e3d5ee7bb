package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/bluegreen/bluegreen/internal/engine"
	"github.com/bluegreen/bluegreen/internal/journal"
	"github.com/bluegreen/bluegreen/internal/kube"
	"github.com/bluegreen/bluegreen/internal/migrate"
	"github.com/bluegreen/bluegreen/internal/plan"
)

func newMigrateCmd(g *Global) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "migrate",
		Short: "Move workloads from cluster A to cluster B: warm standby, EBS volume hand-off, weighted DNS",
		Long: `migrate runs a cluster-scope blue-green from a spec file: preflight (the runbook's
worksheet), a scan for APIs removed in B's Kubernetes version, a warm standby of
the stateless workloads in B, the hand-off of each StatefulSet's EBS volumes
from A to B, and weighted DNS stepping from A to B with checks between steps.
Every step is journaled: a killed run resumes, and rollback returns everything
to A.`,
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
			r, err := s.planMigration(ctx)
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
			if last, _ := s.lastMigration(ctx); last != nil && !last.State.Final() {
				return fmt.Errorf("%w: migration %s has an unfinished run %s (%s): continue it with `bluegreen migrate resume -f %s` or undo it with `bluegreen migrate rollback -f %s`",
					plan.ErrInvalid, s.m.Name, last.ID, last.State, f.file, f.file)
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
			r, err := s.planFrom(obs)
			if err != nil {
				return err
			}
			if err := g.printMigrationPlan(r); err != nil {
				return err
			}
			// Journaled by the engine's first write, once the Lease is held.
			err = s.executeMigration(ctx, r, func(ctx context.Context, e *engine.Engine) error { return e.Run(ctx, r) })
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
		Short:   "Continue an interrupted or paused migration (or its rollback) from the journal",
		Example: `  bluegreen migrate resume -f migration.yaml`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return g.continueMigration(cmd.Context(), &f, func(r *journal.Run) error {
				if r.State.Final() {
					return fmt.Errorf("%w: migration run %s is already %s: nothing to resume", plan.ErrInvalid, r.ID, r.State)
				}
				return nil
			}, runOn)
		},
	}
	f.bindSpec(cmd)
	return cmd
}

// pausedGate returns the approval gate a paused run waits at, or nil when
// it paused for another reason (a drift report, a record mismatch).
func pausedGate(r *journal.Run) *journal.Step {
	if r.State != journal.Paused {
		return nil
	}
	for i := range r.Steps {
		if s := &r.Steps[i]; s.Kind == plan.KindApproveShift && s.State == journal.Started {
			return s
		}
	}
	return nil
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
			return g.continueMigration(cmd.Context(), &f, func(r *journal.Run) error {
				if pausedGate(r) == nil {
					why := string(r.State)
					if r.State == journal.Paused {
						why = "paused, but not at an approval gate (" + r.Reason + ")"
					}
					return fmt.Errorf("%w: migration run %s is %s: nothing to promote; `bluegreen migrate status -f %s` shows where it stands",
						plan.ErrInvalid, r.ID, why, f.file)
				}
				r.Approved = true
				return nil
			}, runOn)
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
			ctx := cmd.Context()
			s, err := g.migrateSession(ctx, &f)
			if err != nil {
				return err
			}
			if asked, err := g.requestAbort(ctx, s.src.Lease, "default", migrateLeaseName(s.m.Name), "migration"); asked || err != nil {
				return err
			}
			return s.continueMigration(ctx, f.file, func(r *journal.Run) error {
				if r.State.Final() {
					return fmt.Errorf("%w: migration run %s is already %s: nothing to abort (a finished migration goes back with `bluegreen migrate rollback -f %s`)",
						plan.ErrInvalid, r.ID, r.State, f.file)
				}
				return nil
			}, func(ctx context.Context, e *engine.Engine, r *journal.Run) error {
				if err := e.Abort(ctx, r); !errors.Is(err, engine.ErrRolledBack) {
					return err
				}
				return nil
			})
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
			return g.continueMigration(cmd.Context(), &f, func(r *journal.Run) error {
				if r.State == journal.RolledBack || r.State == journal.Aborted {
					return fmt.Errorf("%w: migration run %s is already %s: nothing to roll back", plan.ErrInvalid, r.ID, r.State)
				}
				if dryRun {
					return errDryRun
				}
				return nil
			}, func(ctx context.Context, e *engine.Engine, r *journal.Run) error {
				if r.State == journal.RollingBack {
					return e.Run(ctx, r)
				}
				return e.Rollback(ctx, r, "rollback requested by "+kube.Self(r.ID).User)
			})
		},
	}
	f.bindSpec(cmd)
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "print the undos a rollback would run, newest first, and run none")
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

// errDryRun stops continueMigration after the undos are printed.
var errDryRun = errors.New("dry run")

// continueMigration loads the migration's last run, lets check refuse it
// (or adjust it), and runs it on with run, the Lease held.
func (g *Global) continueMigration(ctx context.Context, f *migrateFlags, check func(*journal.Run) error,
	run func(context.Context, *engine.Engine, *journal.Run) error) error {
	s, err := g.migrateSession(ctx, f)
	if err != nil {
		return err
	}
	return s.continueMigration(ctx, f.file, check, run)
}

// runOn runs r on from where it stands.
func runOn(ctx context.Context, e *engine.Engine, r *journal.Run) error { return e.Run(ctx, r) }

// continueMigration is Global.continueMigration on an open session. A
// check that returns errDryRun prints the undos and runs nothing.
func (s *migrateSession) continueMigration(ctx context.Context, file string, check func(*journal.Run) error,
	run func(context.Context, *engine.Engine, *journal.Run) error) error {
	r, err := s.lastMigration(ctx)
	if err != nil {
		return err
	}
	if err := check(r); errors.Is(err, errDryRun) {
		return s.g.printUndos(r)
	} else if err != nil {
		return err
	}
	err = s.executeMigration(ctx, r, func(ctx context.Context, e *engine.Engine) error { return run(ctx, e, r) })
	return s.finishMigration(r, file, err)
}

// planMigration observes both clusters and compiles the run. No write.
func (s *migrateSession) planMigration(ctx context.Context) (*journal.Run, error) {
	obs, err := migrate.Observe(ctx, s.env, s.m)
	if err != nil {
		return nil, err
	}
	return s.planFrom(obs)
}

// planFrom compiles the run from what was observed.
func (s *migrateSession) planFrom(obs plan.MigrationObserved) (*journal.Run, error) {
	steps, err := plan.MigrationPlan(obs, s.m)
	if err != nil {
		return nil, err
	}
	return s.newMigration(steps)
}

// finishMigration prints the outcome and, on success, the checklist.
func (s *migrateSession) finishMigration(r *journal.Run, file string, err error) error {
	switch {
	case errors.Is(err, engine.ErrPaused) && pausedGate(r) != nil:
		s.g.printf("Paused: %s\nApprove the next shift with `bluegreen migrate promote -f %s`, or stop and return to the source cluster with `bluegreen migrate abort -f %s`.\n", r.Reason, file, file)
		err = nil // a gate the operator asked for, like the service scope's
	case errors.Is(err, engine.ErrPaused):
		s.g.printf("Paused: %s\nContinue with `bluegreen migrate resume -f %s`, or return to the source cluster with `bluegreen migrate rollback -f %s`.\n", r.Reason, file, file)
		err = fmt.Errorf("migration paused: %s", r.Reason)
	case errors.Is(err, engine.ErrInterrupted):
		err = fmt.Errorf("%w; the run is journaled: continue with `bluegreen migrate resume -f %s`", err, file)
	}
	if s.g.Output == "json" {
		enc := json.NewEncoder(s.g.out)
		enc.SetIndent("", "  ")
		if jerr := enc.Encode(migrationView(r)); jerr != nil {
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
