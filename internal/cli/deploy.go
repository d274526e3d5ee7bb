package cli

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/bluegreen/bluegreen/internal/audit"
	"github.com/bluegreen/bluegreen/internal/engine"
	"github.com/bluegreen/bluegreen/internal/journal"
	"github.com/bluegreen/bluegreen/internal/kube"
	"github.com/bluegreen/bluegreen/internal/plan"
	"github.com/bluegreen/bluegreen/internal/service"
)

func newDeployCmd(g *Global) *cobra.Command {
	var f releaseFlags
	var dryRun bool
	cmd := &cobra.Command{
		Use:   "deploy APP --image IMAGE",
		Short: "Release an image on the idle color, check it, switch production to it",
		Example: `  # Release 1.4.2, check /healthz on the preview, switch without asking:
  bluegreen deploy shop -n prod --image registry.example.com/shop:1.4.2 \
    --preview-url http://shop-preview.prod.example.com --health-url /healthz --yes

  # Stop before the switch; promote later:
  bluegreen deploy shop -n prod --image registry.example.com/shop:1.4.2 --pause`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.deploy(cmd, &f, firstArg(args), dryRun)
		},
	}
	f.bind(cmd)
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "print the steps and every change they would make, and make none")
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
			return g.deploy(cmd, &f, firstArg(args), true)
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
func (g *Global) deploy(cmd *cobra.Command, f *releaseFlags, app string, dryRun bool) error {
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
	r, err := s.planDeploy(ctx, rel)
	if err != nil {
		return err
	}
	return s.start(ctx, r, dryRun)
}

// start prints a planned run (dry run), or journals and runs it once no
// other run of the app is live or unfinished.
func (s *session) start(ctx context.Context, r *journal.Run, dryRun bool) error {
	if dryRun {
		return s.g.printPlan(r)
	}
	if err := s.refuseUnfinished(ctx, r); err != nil {
		return err
	}
	// Not journaled here: the engine's first write does it, once the
	// Lease is held (see withLease).
	err := s.execute(ctx, r, s.g.ttyApprover(), func(ctx context.Context, e *engine.Engine) error { return e.Run(ctx, r) })
	return s.finish(r, err)
}

// newRun is a run of op on the app, ready to journal.
func (s *session) newRun(op string, rel plan.ServiceRelease, steps []journal.Step) (*journal.Run, error) {
	spec, err := json.Marshal(rel)
	if err != nil {
		return nil, err
	}
	now := s.g.clock.Now().UTC()
	return &journal.Run{
		ID: journal.NewID(now), Scope: journal.ScopeService, Operation: op, Context: s.clients.Context,
		Namespace: rel.Namespace, App: rel.App, Actor: audit.Actor(), Spec: spec,
		State: journal.Running, Approved: rel.Approval == "auto", Steps: steps, CreatedAt: now, UpdatedAt: now,
	}, nil
}

// planDeploy observes the cluster and compiles the run. It makes no write.
func (s *session) planDeploy(ctx context.Context, rel plan.ServiceRelease) (*journal.Run, error) {
	obs, err := service.Observe(ctx, s.clients.Kube, rel.Namespace, rel)
	if err != nil {
		return nil, err
	}
	steps, err := plan.ServiceDeploy(obs, rel)
	if err != nil {
		return nil, err
	}
	return s.newRun("deploy", rel, steps)
}

// refuseUnfinished stops a new run while the app's last run is paused or
// was interrupted: the user decides its fate first.
func (s *session) refuseUnfinished(ctx context.Context, r *journal.Run) error {
	if err := kube.Check(ctx, s.g.clock, s.clients.Kube, r.Namespace, leaseName(r.App)); err != nil {
		return err
	}
	last, err := s.lastRun(ctx, r.Namespace, r.App)
	if err != nil || last == nil {
		return err
	}
	if !last.State.Final() {
		return fmt.Errorf("%w: run %s of %s/%s is %s: continue it with `bluegreen resume` or `bluegreen promote`, or undo it with `bluegreen abort` first",
			plan.ErrInvalid, last.ID, r.Namespace, r.App, last.State)
	}
	return nil
}

// lastRun returns the newest run of an app in the current context, or nil.
func (s *session) lastRun(ctx context.Context, ns, app string) (*journal.Run, error) {
	runs, err := s.g.listRuns(ctx, s.store, journal.Filter{Scope: journal.ScopeService, Context: s.clients.Context, Namespace: ns, App: app, Limit: 1})
	if err != nil || len(runs) == 0 {
		return nil, err
	}
	return runs[0], nil
}

func (g *Global) printPlan(r *journal.Run) error {
	if g.Output == "json" {
		enc := json.NewEncoder(g.out)
		enc.SetIndent("", "  ")
		return enc.Encode(planView(r))
	}
	fmt.Fprintf(g.out, "Plan: %s %s/%s (%d steps, nothing changed yet)\n", r.Operation, r.Namespace, r.App, len(r.Steps))
	for i, st := range r.Steps {
		fmt.Fprintf(g.out, "%2d. %-16s %s\n", i+1, st.Name, redactText(st.Description))
		for _, m := range st.Mutations {
			fmt.Fprintf(g.out, "      ~ %s: %s\n", redactText(m.Object), redactText(m.Change))
		}
	}
	return nil
}
