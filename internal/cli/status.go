package cli

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
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
	// Current is what the newest run does now, when it is not over.
	Current *currentView `json:"current,omitempty"`
	Runs    []runSummary `json:"runs"`
}

func newStatusCmd(g *Global) *cobra.Command {
	var rel plan.ServiceRelease
	var runs int
	var w watchFlags
	cmd := &cobra.Command{
		Use:   "status APP",
		Short: "Show the active color, each color's image and readiness, the traffic split and the last runs",
		Example: `  bluegreen status shop -n prod
  bluegreen status shop -n prod -o json

  # Follow a release live (in place on a terminal, a line per change in a pipe):
  bluegreen status shop -n prod -w`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			rel.App = args[0]
			rel.Defaults()
			return g.status(cmd.Context(), rel, runs, w)
		},
	}
	w.bind(cmd)
	cmd.Flags().StringVar(&rel.ColorLabel, "color-label", "", "pod label key that holds the color (default track)")
	cmd.Flags().StringVar(&rel.ActiveService, "active-service", "", "active Service (default APP)")
	cmd.Flags().StringVar(&rel.PreviewService, "preview-service", "", "preview Service (default APP-preview)")
	cmd.Flags().IntVar(&runs, "runs", 5, "how many recent runs to show")
	return cmd
}

func (g *Global) status(ctx context.Context, rel plan.ServiceRelease, nRuns int, w watchFlags) error {
	if err := w.check(); err != nil {
		return err
	}
	s, err := g.session(ctx)
	if err != nil {
		return err
	}
	read := func(ctx context.Context) (statusView, error) {
		st, err := run.ServiceStatus(ctx, s.clients.Kube, s.store, g.log, s.clients.Context, s.clients.Namespace, rel, nRuns)
		if err != nil {
			return statusView{}, err
		}
		v := statusView{App: st.App, Namespace: st.Namespace, Active: st.Active, Services: st.Services, Colors: st.Colors,
			Rollback: st.Rollback, Runs: []runSummary{}}
		for _, r := range st.Runs {
			v.Runs = append(v.Runs, summary(r))
		}
		if len(st.Runs) > 0 {
			v.Current = current(st.Runs[0])
		}
		return v, nil
	}
	if w.on {
		return watch(ctx, g, w.every, watchSource[statusView]{kind: "AppStatus", name: rel.App, read: read,
			render: g.writeStatus, line: g.statusLine})
	}
	v, err := read(ctx)
	if err != nil {
		return err
	}
	if g.structured() {
		return g.emit("AppStatus", v.App, v)
	}
	return g.writeStatus(g.out, v)
}

// statusLine is status in one line, for status --watch off a terminal.
func (g *Global) statusLine(v statusView) string {
	var b strings.Builder
	active := string(v.Active)
	if active == "" {
		active = "none"
	}
	fmt.Fprintf(&b, "active=%s", active)
	for _, c := range []plan.Color{plan.Blue, plan.Green} {
		if cs := v.Colors[c]; cs != nil && cs.Exists {
			fmt.Fprintf(&b, " %s=%s ready=%d/%d traffic=%d%%", c, cs.Image, cs.Ready, cs.Desired, cs.Traffic)
		} else {
			fmt.Fprintf(&b, " %s=missing", c)
		}
	}
	switch {
	case v.Current != nil:
		b.WriteString(" | " + v.Current.lineText())
	case len(v.Runs) > 0:
		fmt.Fprintf(&b, " | last run %s (%s) %s", v.Runs[0].ID, v.Runs[0].Operation, v.Runs[0].State)
	}
	return b.String()
}

func (g *Global) writeStatus(out io.Writer, v statusView) error {
	active := string(v.Active)
	if active == "" {
		active = "(none: the active Service is missing or selects no color)"
	}
	fmt.Fprintf(out, "App %s in namespace %s: active color %s\n\n", v.App, v.Namespace, active)
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
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
	fmt.Fprintln(out)
	if rc := v.Rollback; rc != nil {
		fmt.Fprintf(out, "Rollback: %s\n", rc.Text())
	}
	for _, name := range slices.Sorted(maps.Keys(v.Services)) {
		fmt.Fprintf(out, "Service %s selects %s\n", name, labels.Set(v.Services[name]).String())
	}
	if v.Current != nil {
		fmt.Fprintf(out, "\nNow: %s\n", v.Current.text(g.clock.Now()))
	}
	if len(v.Runs) > 0 {
		fmt.Fprintln(out, "\nRecent runs:")
		for _, r := range v.Runs {
			reason := r.Reason
			if r.State == journal.Waiting && !g.clock.Now().Before(r.DueAt) {
				reason += fmt.Sprintf(" — due now: `bluegreen resume %s -n %s` (or the next release) does it", v.App, v.Namespace)
			}
			fmt.Fprintf(out, "  %s  %-8s %-13s %s\n", r.ID, r.Operation, r.State, reason)
		}
	}
	return nil
}
