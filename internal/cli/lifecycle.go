package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
	"k8s.io/client-go/kubernetes"

	"github.com/bluegreen/bluegreen/internal/engine"
	"github.com/bluegreen/bluegreen/internal/journal"
	"github.com/bluegreen/bluegreen/internal/plan"
	"github.com/bluegreen/bluegreen/internal/run"
	"github.com/bluegreen/bluegreen/internal/service"
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
		Short: "Continue an interrupted run (or its rollback) from the journal",
		Long: `resume continues the app's last run from its journal: a run killed half-way
goes on from the step it was in (every step is idempotent), a rollback killed
half-way goes on undoing. A paused run stays paused at the approval gate.`,
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
	s, err := g.session(ctx)
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
		return nil, fmt.Errorf("%w: no run of %s/%s in the journal %s (context %q); check -n/--namespace, --context and --journal",
			plan.ErrInvalid, s.clients.Namespace, app, s.g.journalPath(), s.clients.Context)
	}
	return r, nil
}

func newRollbackCmd(g *Global) *cobra.Command {
	var dryRun bool
	cmd := &cobra.Command{
		Use:   "rollback APP",
		Short: "Send production back to the previous color, undoing the last release",
		Long: `rollback walks the undos of the app's last run, newest first: if the old color
was scaled down it is scaled up and waited on until Ready, then the active
Service points back at it, then the new color returns to what it was.`,
		Example: `  bluegreen rollback shop -n prod
  bluegreen rollback shop -n prod --dry-run`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.continueRun(cmd.Context(), args[0], run.Rollback, dryRun)
		},
	}
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "print the undos a rollback would run, newest first, and run none")
	return cmd
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
		fmt.Fprintln(g.out, "Each change below is reverted to the before-state recorded in the journal.")
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

func (g *Global) journalPath() string {
	if g.Journal != "" {
		return g.Journal
	}
	p, _ := journal.DefaultPath()
	return p
}
