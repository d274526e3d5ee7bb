package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/duration"

	"github.com/bluegreen/bluegreen/internal/journal"
	"github.com/bluegreen/bluegreen/internal/kube"
	"github.com/bluegreen/bluegreen/internal/plan"
	"github.com/bluegreen/bluegreen/internal/runstore"
)

// listItem is one app (or product, or migration) under bluegreen.
type listItem struct {
	Namespace string      `json:"namespace"`
	App       string      `json:"app"`
	Scope     string      `json:"scope"`
	Active    plan.Color  `json:"activeColor,omitempty"`
	Image     string      `json:"image,omitempty"`
	LastRun   listLastRun `json:"lastRun"`
}

type listLastRun struct {
	ID        string    `json:"id"`
	Operation string    `json:"operation"`
	State     string    `json:"state"`
	UpdatedAt time.Time `json:"updatedAt"`
}

func newListCmd(g *Global) *cobra.Command {
	var all bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the apps under bluegreen in the namespace (or every namespace): active color, image, last run",
		Example: `  bluegreen list -n prod
  bluegreen list -A
  bluegreen list -A -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return g.list(cmd.Context(), all)
		},
	}
	cmd.Flags().BoolVarP(&all, "all-namespaces", "A", false, "list the apps of every namespace")
	return cmd
}

func (g *Global) list(ctx context.Context, all bool) error {
	items, err := g.listItems(ctx, all)
	if err != nil {
		return err
	}
	if g.structured() {
		return g.emit("AppList", "", items)
	}
	if len(items) == 0 {
		_, err := fmt.Fprintln(g.out, "No app under bluegreen here: start with `bluegreen init APP` (see docs/service-scope.md).")
		return err
	}
	w := tabwriter.NewWriter(g.out, 0, 4, 2, ' ', 0)
	if all {
		fmt.Fprint(w, "NAMESPACE\t")
	}
	fmt.Fprintln(w, "APP\tSCOPE\tACTIVE\tIMAGE\tLAST RUN\tSTATE\tAGE")
	for _, it := range items {
		if all {
			fmt.Fprintf(w, "%s\t", it.Namespace)
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", it.App, it.Scope, orDash(string(it.Active)), orDash(it.Image),
			it.LastRun.Operation, it.LastRun.State, duration.HumanDuration(g.clock.Now().Sub(it.LastRun.UpdatedAt)))
	}
	return w.Flush()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// listItems reads the newest run of every app, then, for each service-scope
// app, which color its active Service selects and that color's image.
func (g *Global) listItems(ctx context.Context, all bool) ([]listItem, error) {
	c, err := g.connect(ctx)
	if err != nil {
		return nil, err
	}
	id, err := c.Identify(ctx)
	if err != nil {
		return nil, err
	}
	ns := c.Namespace
	if all {
		ns = ""
	}
	return latestItems(ctx, c, id, ns)
}

// latestItems is listItems of namespace ns (every one when empty) of the
// cluster c, whose identity is id.
func latestItems(ctx context.Context, c *kube.Clients, id, ns string) ([]listItem, error) {
	runs, err := runstore.Latest(ctx, c.Records, ns, id)
	if err != nil {
		return nil, err
	}
	items := []listItem{}
	for _, r := range runs {
		it := listItem{Namespace: r.Namespace, App: r.App, Scope: string(r.Scope),
			LastRun: listLastRun{ID: r.ID, Operation: r.Operation, State: string(r.State), UpdatedAt: r.UpdatedAt}}
		if r.Scope == journal.ScopeService {
			it.Active, it.Image = serviceColor(ctx, c, r)
		}
		items = append(items, it)
	}
	return items, nil
}

// serviceColor reads the color an app's active Service selects and the
// image of that color's first container; empty when it cannot tell.
func serviceColor(ctx context.Context, c *kube.Clients, r *journal.Run) (plan.Color, string) {
	var rel plan.ServiceRelease
	_ = json.Unmarshal(r.Spec, &rel)
	rel.App = r.App
	rel.Defaults()
	svc, err := c.Kube.CoreV1().Services(r.Namespace).Get(ctx, rel.ActiveService, metav1.GetOptions{})
	if err != nil {
		return "", ""
	}
	color := plan.Color(svc.Spec.Selector[rel.ColorLabel])
	if !color.Valid() {
		return "", ""
	}
	dep, err := c.Kube.AppsV1().Deployments(r.Namespace).Get(ctx, plan.DeploymentName(r.App, color), metav1.GetOptions{})
	if err != nil || len(dep.Spec.Template.Spec.Containers) == 0 {
		return color, ""
	}
	return color, dep.Spec.Template.Spec.Containers[0].Image
}
