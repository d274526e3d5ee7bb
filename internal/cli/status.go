package cli

import (
	"context"
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/bluegreen/bluegreen/internal/journal"
	"github.com/bluegreen/bluegreen/internal/plan"
	"github.com/bluegreen/bluegreen/internal/run"
)

// statusView is the whole status of an app.
type statusView struct {
	App       string                          `json:"app"`
	Namespace string                          `json:"namespace"`
	Active    plan.Color                      `json:"activeColor,omitempty"`
	Services  map[string]map[string]string    `json:"services"`
	Colors    map[plan.Color]*run.ColorStatus `json:"colors"`
	Rollback  *run.RollbackCost               `json:"rollback,omitempty"`
	Runs      []runSummary                    `json:"runs"`
}

func newStatusCmd(g *Global) *cobra.Command {
	var rel plan.ServiceRelease
	var runs int
	cmd := &cobra.Command{
		Use:   "status APP",
		Short: "Show the active color, each color's image and readiness, the traffic split and the last runs",
		Example: `  bluegreen status shop -n prod
  bluegreen status shop -n prod -o json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			rel.App = args[0]
			rel.Defaults()
			return g.status(cmd.Context(), rel, runs)
		},
	}
	cmd.Flags().StringVar(&rel.ColorLabel, "color-label", "", "pod label key that holds the color (default track)")
	cmd.Flags().StringVar(&rel.ActiveService, "active-service", "", "active Service (default APP)")
	cmd.Flags().StringVar(&rel.PreviewService, "preview-service", "", "preview Service (default APP-preview)")
	cmd.Flags().IntVar(&runs, "runs", 5, "how many recent runs to show")
	return cmd
}

func (g *Global) status(ctx context.Context, rel plan.ServiceRelease, nRuns int) error {
	s, err := g.session(ctx)
	if err != nil {
		return err
	}
	st, err := run.ServiceStatus(ctx, s.clients.Kube, s.store, g.log, s.clients.Context, s.clients.Namespace, rel, nRuns)
	if err != nil {
		return err
	}
	v := statusView{App: st.App, Namespace: st.Namespace, Active: st.Active, Services: st.Services, Colors: st.Colors,
		Rollback: st.Rollback, Runs: []runSummary{}}
	for _, r := range st.Runs {
		v.Runs = append(v.Runs, summary(r))
	}
	if g.structured() {
		return g.emit("AppStatus", v.App, v)
	}
	return g.printStatus(v)
}

func (g *Global) printStatus(v statusView) error {
	active := string(v.Active)
	if active == "" {
		active = "(none: the active Service is missing or selects no color)"
	}
	fmt.Fprintf(g.out, "App %s in namespace %s: active color %s\n\n", v.App, v.Namespace, active)
	tw := tabwriter.NewWriter(g.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "COLOR\tDEPLOYMENT\tIMAGE\tREADY\tTRAFFIC")
	for _, c := range []plan.Color{plan.Blue, plan.Green} {
		cs := v.Colors[c]
		if !cs.Exists {
			fmt.Fprintf(tw, "%s\t%s\t(missing)\t-\t-\n", c, cs.Deployment)
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d/%d\t%d%%\n", c, cs.Deployment, cs.Image, cs.Ready, cs.Desired, cs.Traffic)
	}
	_ = tw.Flush()
	fmt.Fprintln(g.out)
	if rc := v.Rollback; rc != nil {
		switch rc.Cost {
		case "none":
			fmt.Fprintf(g.out, "Rollback: nothing to roll back (%s)\n", rc.Reason)
		case "instant":
			fmt.Fprintf(g.out, "Rollback: instant (%s has %d ready pods, production needs %d)\n", rc.Color, rc.Ready, rc.Needed)
		default:
			fmt.Fprintf(g.out, "Rollback: needs scale-up (%s has %d of %d ready pods; rollback scales it up and waits until Ready before moving traffic)\n", rc.Color, rc.Ready, rc.Needed)
		}
	}
	for name, sel := range v.Services {
		fmt.Fprintf(g.out, "Service %s selects %s\n", name, labels.Set(sel).String())
	}
	if len(v.Runs) > 0 {
		fmt.Fprintln(g.out, "\nRecent runs:")
		for _, r := range v.Runs {
			reason := r.Reason
			if r.State == journal.Waiting && !g.clock.Now().Before(r.DueAt) {
				reason += fmt.Sprintf(" — due now: `bluegreen resume %s -n %s` (or the next release) does it", v.App, v.Namespace)
			}
			fmt.Fprintf(g.out, "  %s  %-8s %-13s %s\n", r.ID, r.Operation, r.State, reason)
		}
	}
	return nil
}
