package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/bluegreen/bluegreen/internal/engine"
	"github.com/bluegreen/bluegreen/internal/journal"
	"github.com/bluegreen/bluegreen/internal/plan"
	"github.com/bluegreen/bluegreen/internal/run"
	"github.com/bluegreen/bluegreen/internal/service"
	"github.com/bluegreen/bluegreen/internal/traffic"
)

func newDeployCmd(g *Global) *cobra.Command {
	var f releaseFlags
	var dryRun, server bool
	cmd := &cobra.Command{
		Use:   "deploy APP --image IMAGE",
		Short: "Release an image on the idle color, check it, switch production to it",
		Example: `  # Release 1.4.2, check /healthz on the preview, switch without asking:
  bluegreen deploy shop -n prod --image registry.example.com/shop:1.4.2 \
    --preview-url http://shop-preview.prod.example.com --health-url /healthz --yes

  # Stop before the switch; promote later:
  bluegreen deploy shop -n prod --image registry.example.com/shop:1.4.2 --pause

  # Have the API server admit every write (webhooks, policies, RBAC), keep none:
  bluegreen deploy shop -n prod --image registry.example.com/shop:1.4.2 --dry-run=server`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.deploy(cmd, &f, firstArg(args), dryRun, server)
		},
	}
	f.bind(cmd)
	dryRunServerVar(cmd.Flags(), &dryRun, &server, "print the steps and every change they would make, and make none")
	return cmd
}

func newPlanCmd(g *Global) *cobra.Command {
	var f releaseFlags
	cmd := &cobra.Command{
		Use:     "plan APP --image IMAGE",
		Short:   "Print the steps of a release and every change they would make (same as deploy --dry-run)",
		Example: `  bluegreen plan shop -n prod --image registry.example.com/shop:1.4.2 --health-url /healthz`,
		Args:    cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.deploy(cmd, &f, firstArg(args), true, false)
		},
	}
	f.bind(cmd)
	return cmd
}

func firstArg(args []string) string {
	if len(args) > 0 {
		return args[0]
	}
	return ""
}

// deploy plans a release (validating everything before any write), then
// either prints the plan or runs it.
func (g *Global) deploy(cmd *cobra.Command, f *releaseFlags, app string, dryRun, server bool) error {
	ctx := cmd.Context()
	s, err := g.session(ctx)
	if err != nil {
		return err
	}
	ns := s.clients.Namespace
	rel, err := f.release(cmd, app, ns)
	if err != nil {
		return err
	}
	if rel.Approval == "prompt" && g.ttyApprover() == nil && !dryRun {
		return usageErr("no terminal to ask for approval: pass --yes to switch without asking, or --pause to stop before the switch")
	}
	if err := run.CheckGitOps(ctx, s.clients.Kube, g.log, ns, []string{rel.ActiveService, rel.PreviewService},
		[]string{plan.DeploymentName(rel.App, plan.Blue), plan.DeploymentName(rel.App, plan.Green)}, f.allowGitOps || dryRun); err != nil {
		return err
	}
	r, err := run.PlanDeploy(ctx, g.clock, s.clients.Kube, s.clients.Context, rel)
	if err != nil {
		return err
	}
	if server {
		return s.serverDryRun(ctx, r)
	}
	return s.start(ctx, r, dryRun)
}

// serverDryRun has the API server admit every write of r and keep none.
func (s *session) serverDryRun(ctx context.Context, r *journal.Run) error {
	dry, err := s.clients.ServerDryRun()
	if err != nil {
		return err
	}
	router, err := traffic.NewService(traffic.Deps{Kube: dry.Kube, Clock: s.g.clock})
	if err != nil {
		return err
	}
	acts := run.ServiceActions(r, service.Deps{Client: dry.Kube, Router: router, Clock: s.g.clock, Log: s.g.log})
	return s.g.serverDryRun(ctx, r, s.clients.Context, acts)
}

// start prints a planned run (dry run), or journals and runs it once no
// other run of the app is live or unfinished.
func (s *session) start(ctx context.Context, r *journal.Run, dryRun bool) error {
	if dryRun {
		return s.g.printPlan(r)
	}
	if err := run.CheckFree(ctx, s.g.clock, s.clients.Kube, run.KeyOf(r)); err != nil {
		return err
	}
	if err := s.carryOutDue(ctx, r.Namespace, r.App); err != nil {
		return err
	}
	if err := run.RefuseUnfinished(ctx, s.store, s.g.log, run.KeyOf(r), r.Context, serviceCommands(r.App, r.Namespace)); err != nil {
		return err
	}
	// Not journaled here: the engine's first write does it, once the
	// Lease is held (see run.Runner.Execute).
	err := s.execute(ctx, r, s.g.ttyApprover(), func(ctx context.Context, e *engine.Engine) error { return e.Run(ctx, r) })
	s.pruneHistory(ctx, r.App)
	return s.finish(r, err)
}

// pruneHistory keeps the app's (or the migration's) newest --run-history
// finished runs in the cluster. A failure is logged: it never fails the
// release.
func (s *session) pruneHistory(ctx context.Context, app string) {
	st, ok := s.store.(interface {
		Prune(ctx context.Context, app string, keep int) (int, error)
	})
	if !ok || s.g.RunHistory <= 0 {
		return
	}
	if n, err := st.Prune(context.WithoutCancel(ctx), app, s.g.RunHistory); err != nil {
		s.g.log.Warn("prune old runs", "app", app, "error", err)
	} else if n > 0 {
		s.g.log.Debug("pruned old runs", "app", app, "deleted", n)
	}
}

// carryOutDue finishes the app's last run when it waits for a step that is
// due (a scale-down delay that has passed), before a new run starts.
func (s *session) carryOutDue(ctx context.Context, ns, app string) error {
	last, err := s.lastRun(ctx, ns, app)
	if err != nil || last == nil || last.State != journal.Waiting || s.g.clock.Now().Before(last.DueAt) {
		return err
	}
	s.g.printf("Run %s is due: %s.\n", last.ID, last.Reason)
	err = s.execute(ctx, last, nil, func(ctx context.Context, e *engine.Engine) error { return run.Drive(ctx, e, run.Resume, last) })
	if err != nil {
		return fmt.Errorf("finish the due steps of run %s first: %w", last.ID, err)
	}
	return nil
}

// lastRun returns the newest run of an app in the current context, or nil.
func (s *session) lastRun(ctx context.Context, ns, app string) (*journal.Run, error) {
	k := run.ServiceKey(ns, app)
	return run.Newest(ctx, s.store, s.clients.Lease, s.g.log, k, k.Filter(s.clients.Context))
}

func (g *Global) printPlan(r *journal.Run) error {
	if g.structured() {
		return g.emit("Plan", r.App, planView(r))
	}
	fmt.Fprintf(g.out, "Plan: %s %s/%s (%d steps, nothing changed yet)\n", r.Operation, r.Namespace, r.App, len(r.Steps))
	w := nameWidth(r)
	for i, st := range r.Steps {
		fmt.Fprintf(g.out, "%2d. %-*s %s\n", i+1, w, st.Name, redactText(st.Description))
		for _, m := range st.Mutations {
			fmt.Fprintf(g.out, "      ~ %s: %s\n", redactText(m.Object), redactText(m.Change))
		}
	}
	return nil
}
