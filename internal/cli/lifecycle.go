package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/client-go/kubernetes"

	"github.com/bluegreen/bluegreen/internal/engine"
	"github.com/bluegreen/bluegreen/internal/journal"
	"github.com/bluegreen/bluegreen/internal/plan"
	"github.com/bluegreen/bluegreen/internal/run"
	"github.com/bluegreen/bluegreen/internal/service"
	"github.com/bluegreen/bluegreen/internal/traffic"
)

func newPromoteCmd(g *Global) *cobra.Command {
	return &cobra.Command{
		Use:     "promote APP",
		Short:   "Continue a paused release: switch production to the new color",
		Example: `  bluegreen promote shop -n prod`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.continueRun(cmd.Context(), args[0], run.Promote, false)
		},
	}
}

func newResumeCmd(g *Global) *cobra.Command {
	return &cobra.Command{
		Use:   "resume APP",
		Short: "Continue an interrupted run (or its rollback) from its record in the cluster",
		Long: `resume continues the app's last run from its record in the cluster, from any
machine: a run killed half-way goes on from the step it was in (every step is
idempotent), a rollback killed half-way goes on undoing. A paused run stays paused at the approval gate.`,
		Example: `  bluegreen resume shop -n prod`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.continueRun(cmd.Context(), args[0], run.Resume, false)
		},
	}
}

// continueRun loads the app's last run, checks that it can take verb v,
// and drives it on; a dry run prints the undos a rollback would run.
func (g *Global) continueRun(ctx context.Context, app string, v run.Verb, dryRun bool) error {
	open := g.sessionReadingRuns
	if v == run.Abort {
		open = g.session // its first call is the Lease's
	}
	s, err := open(ctx)
	if err != nil {
		return err
	}
	if v == run.Abort {
		if asked, err := g.requestAbort(ctx, s.clients.Kube, run.ServiceKey(s.clients.Namespace, app), "release"); asked || err != nil {
			return err
		}
	}
	r, err := s.requireLastRun(ctx, app)
	if err != nil {
		return err
	}
	if err := run.Check(v, r, serviceCommands(app, s.clients.Namespace)); err != nil {
		return err
	}
	if dryRun {
		return g.printUndos(r)
	}
	var approver service.Approver
	if v == run.Promote || v == run.Resume {
		approver = g.ttyApprover()
	}
	err = s.execute(ctx, r, approver, func(ctx context.Context, e *engine.Engine) error { return run.Drive(ctx, e, v, r) })
	return s.finish(r, err)
}

// serviceCommands names the command of each verb on app.
func serviceCommands(app, ns string) run.Commands {
	return func(v run.Verb) string { return fmt.Sprintf("bluegreen %s %s -n %s", v, app, ns) }
}

func (s *session) requireLastRun(ctx context.Context, app string) (*journal.Run, error) {
	r, err := s.lastRun(ctx, s.clients.Namespace, app)
	if err != nil {
		return nil, err
	}
	if r == nil {
		return nil, fmt.Errorf("%w: no run of %s/%s in the cluster of context %q (`kubectl get bluegreenruns -n %s`); check -n/--namespace and --context, "+
			"or send production back without a record with `bluegreen rollback %s --force`",
			plan.ErrInvalid, s.clients.Namespace, app, s.clients.Context, s.clients.Namespace, app)
	}
	return r, nil
}

func newRollbackCmd(g *Global) *cobra.Command {
	var dryRun, force bool
	var rel plan.ServiceRelease
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "rollback APP",
		Short: "Send production back to the previous color, undoing the last release",
		Long: `rollback walks the undos of the app's last run, newest first: if the old color
was scaled down it is scaled up and waited on until Ready, then the active
Service points back at it, then the new color returns to what it was.

With --force it reads no run record at all, for the day the record is damaged
or lost: it points the active Service at the color it does not select now,
after scaling that color up to production's size and waiting until it is
Ready if it has fewer ready pods. It refuses, changing nothing, when that
color's Deployment is missing or does not become Ready within --timeout.`,
		Example: `  bluegreen rollback shop -n prod
  bluegreen rollback shop -n prod --dry-run
  bluegreen rollback shop -n prod --force   # no usable run record`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !force {
				return g.continueRun(cmd.Context(), args[0], run.Rollback, dryRun)
			}
			if dryRun {
				return usageErr("--force and --dry-run do not go together: --force reads no record to print")
			}
			rel.App, rel.Namespace = args[0], ""
			rel.Defaults()
			return g.forceRollback(cmd.Context(), rel, timeout)
		},
	}
	fl := cmd.Flags()
	dryRunVar(fl, &dryRun, "print the undos a rollback would run, newest first, and run none", noServerUndo)
	fl.BoolVar(&force, "force", false, "switch back to the other color from what the cluster shows, without the run record")
	fl.DurationVar(&timeout, "timeout", 5*time.Minute, "with --force: how long to wait for the other color to become Ready")
	fl.StringVar(&rel.ColorLabel, "color-label", "", "with --force: pod label key that holds the color (default track)")
	fl.StringVar(&rel.ActiveService, "active-service", "", "with --force: active Service (default APP)")
	fl.StringVar(&rel.PreviewService, "preview-service", "", "with --force: preview Service (default APP-preview)")
	return cmd
}

// forceRollback is `rollback --force`: no journal is opened, so a damaged
// one cannot stop it.
func (g *Global) forceRollback(ctx context.Context, rel plan.ServiceRelease, timeout time.Duration) error {
	c, err := g.connect(ctx)
	if err != nil {
		return err
	}
	rel.Namespace = c.Namespace
	router, err := traffic.NewService(traffic.Deps{Kube: c.Kube, Clock: g.clock})
	if err != nil {
		return err
	}
	d := service.Deps{Client: c.Kube, Router: router, Clock: g.clock, Log: g.log}
	f, err := g.runner(ctx, nil, c.Lease, c.Kube, nil).ForceRollback(ctx, d, rel, c.Context, timeout)
	if err != nil {
		return err
	}
	if f.ScaledTo > 0 {
		g.printf("Scaled %s from %d to %d replicas and waited until Ready.\n", plan.DeploymentName(rel.App, f.To), f.ScaledFrom, f.ScaledTo)
	}
	g.printf("Production of %s/%s is back on %s (was %s); no run record was read or written.\n", rel.Namespace, rel.App, f.To, f.From)
	return nil
}

// printUndos lists what a rollback of r would undo, in the order it would.
func (g *Global) printUndos(r *journal.Run) error {
	var undo []journal.Step
	for i := len(r.Steps) - 1; i >= 0; i-- {
		switch st := r.Steps[i]; st.State {
		case journal.Started, journal.Done, journal.Errored, journal.Undoing:
			if len(st.Mutations) > 0 {
				undo = append(undo, st)
			}
		}
	}
	rb := *r
	rb.Operation, rb.Steps = "rollback of run "+r.ID, undo
	if g.Output == "text" {
		fmt.Fprintln(g.out, "Each change below is reverted to the before-state recorded in the run's record.")
	}
	return g.printPlan(&rb)
}

func newAbortCmd(g *Global) *cobra.Command {
	return &cobra.Command{
		Use:   "abort APP",
		Short: "Stop a paused or running release before production sees the new color",
		Long: `abort undoes a release that has not switched production yet. A paused run is
undone here; a run in progress elsewhere is asked to stop through its lease,
and undoes itself. A release that already switched needs rollback instead.`,
		Example: `  bluegreen abort shop -n prod`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.continueRun(cmd.Context(), args[0], run.Abort, false)
		},
	}
}

// requestAbort asks the run holding k's Lease to abort; asked reports
// that one held it (it undoes its steps itself).
func (g *Global) requestAbort(ctx context.Context, c kubernetes.Interface, k run.Key, what string) (asked bool, err error) {
	holder, err := run.RequestAbort(ctx, g.clock, c, k)
	if err != nil || holder == "" {
		return false, err
	}
	g.printf("Asked the running %s (%s) to abort; it undoes its steps and exits.\n", what, holder)
	return true, nil
}
