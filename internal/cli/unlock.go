package cli

import (
	"context"

	"github.com/spf13/cobra"
	"k8s.io/client-go/kubernetes"

	"github.com/bluegreen/bluegreen/internal/run"
)

func newUnlockCmd(g *Global) *cobra.Command {
	var yes bool
	cmd := &cobra.Command{
		Use:   "unlock APP",
		Short: "Break the app's Lease by force, when the run holding it is stuck or its machine is gone",
		Long: `unlock clears the holder of the app's Lease so that the next run can start at
once. A run that still holds it alive notices at its next renewal (a sixth of
--lease-duration), stops, and makes no further change; it is journaled as
failed in its run record. A Lease that looks alive is broken only with --yes.`,
		Example: `  bluegreen unlock shop -n prod
  bluegreen unlock shop -n prod --yes   # the holder looks alive but is known to be stuck`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			c, err := g.connect(ctx)
			if err != nil {
				return err
			}
			return g.unlock(ctx, c.Lease, run.ServiceKey(c.Namespace, args[0]), yes)
		},
	}
	cmd.Flags().BoolVar(&yes, "yes", false, "break the Lease even when its holder looks alive")
	return cmd
}

func (g *Global) unlock(ctx context.Context, c kubernetes.Interface, k run.Key, yes bool) error {
	holder, err := run.Unlock(ctx, g.clock, c, k, yes)
	if err != nil {
		return err
	}
	if holder == "" {
		g.printf("Lease %s/%s is free: nothing to unlock.\n", k.Namespace, k.LeaseName())
		return nil
	}
	g.printf("Unlocked lease %s/%s (was held by %s). A run still holding it stops at its next renewal.\n", k.Namespace, k.LeaseName(), holder)
	return nil
}
