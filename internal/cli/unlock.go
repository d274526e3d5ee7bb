package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
	"k8s.io/client-go/kubernetes"

	"github.com/bluegreen/bluegreen/internal/kube"
	"github.com/bluegreen/bluegreen/internal/plan"
)

func newUnlockCmd(g *Global) *cobra.Command {
	var yes bool
	cmd := &cobra.Command{
		Use:   "unlock APP",
		Short: "Break the app's Lease by force, when the run holding it is stuck or its machine is gone",
		Long: `unlock clears the holder of the app's Lease so that the next run can start at
once. A run that still holds it alive notices at its next renewal (a sixth of
--lease-duration), stops, and makes no further change; it is journaled as
failed on its machine. A Lease that looks alive is broken only with --yes.`,
		Example: `  bluegreen unlock shop -n prod
  bluegreen unlock shop -n prod --yes   # the holder looks alive but is known to be stuck`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			c, err := g.connect(ctx)
			if err != nil {
				return err
			}
			return g.unlock(ctx, c.Lease, c.Namespace, leaseName(args[0]), yes)
		},
	}
	cmd.Flags().BoolVar(&yes, "yes", false, "break the Lease even when its holder looks alive")
	return cmd
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
			src, err := g.connectCluster(ctx, "source", m.Source, m.Handoff.Parallelism)
			if err != nil {
				return err
			}
			return g.unlock(ctx, src.Lease, "default", migrateLeaseName(m.Name), yes)
		},
	}
	f.bindSpec(cmd)
	cmd.Flags().BoolVar(&yes, "yes", false, "break the Lease even when its holder looks alive")
	return cmd
}

func (g *Global) unlock(ctx context.Context, c kubernetes.Interface, ns, name string, yes bool) error {
	live, err := kube.LiveHolder(ctx, g.clock, c, ns, name)
	if err != nil {
		return err
	}
	if live != "" && !yes {
		return fmt.Errorf("%w: lease %s/%s is held by %s, which renewed it recently and looks alive: stop it with `bluegreen abort` instead, or pass --yes if it is known to be stuck",
			plan.ErrInvalid, ns, name, live)
	}
	holder, err := kube.Unlock(ctx, g.clock, c, ns, name, kube.Self("").User)
	if err != nil {
		return err
	}
	if holder == "" {
		g.printf("Lease %s/%s is free: nothing to unlock.\n", ns, name)
		return nil
	}
	g.printf("Unlocked lease %s/%s (was held by %s). A run still holding it stops at its next renewal.\n", ns, name, holder)
	return nil
}
