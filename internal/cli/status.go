package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/utils/ptr"

	"github.com/bluegreen/bluegreen/internal/journal"
	"github.com/bluegreen/bluegreen/internal/plan"
	"github.com/bluegreen/bluegreen/internal/run"
)

// colorStatus is one color's Deployment as status shows it.
type colorStatus struct {
	Deployment string `json:"deployment"`
	Exists     bool   `json:"exists"`
	Image      string `json:"image,omitempty"`
	Ready      int32  `json:"ready"`
	Desired    int32  `json:"desired"`
	Traffic    int    `json:"trafficPercent"`
}

// rollbackCost says what moving production back to the other color costs
// now: "instant" when it has as many ready pods as the active color, else
// "needs-scale-up" (a rollback scales it up and waits until it is Ready
// before traffic moves).
type rollbackCost struct {
	Color  plan.Color `json:"color,omitempty"`
	Cost   string     `json:"cost"`
	Ready  int32      `json:"ready"`
	Needed int32      `json:"needed"`
	// Reason says why there is nothing to roll back (cost "none").
	Reason string `json:"reason,omitempty"`
}

// rollbackCostOf derives the rollback cost from both colors' readiness; nil
// when there is no active color to roll back from, cost "none" when the
// last run is already rolled back or aborted.
func rollbackCostOf(v statusView) *rollbackCost {
	if !v.Active.Valid() {
		return nil
	}
	if len(v.Runs) > 0 {
		if last := v.Runs[0]; last.State == journal.RolledBack || last.State == journal.Aborted {
			return &rollbackCost{Cost: "none", Reason: fmt.Sprintf("the last run %s is %s", last.ID, last.State)}
		}
	}
	act, other := v.Colors[v.Active], v.Colors[v.Active.Other()]
	if act == nil || other == nil || !act.Exists || !other.Exists {
		return nil
	}
	rc := &rollbackCost{Color: v.Active.Other(), Ready: other.Ready, Needed: max(act.Ready, 1), Cost: "instant"}
	if rc.Ready < rc.Needed {
		rc.Cost = "needs-scale-up"
	}
	return rc
}

// statusView is the whole status of an app.
type statusView struct {
	App       string                       `json:"app"`
	Namespace string                       `json:"namespace"`
	Active    plan.Color                   `json:"activeColor,omitempty"`
	Services  map[string]map[string]string `json:"services"`
	Colors    map[plan.Color]*colorStatus  `json:"colors"`
	Rollback  *rollbackCost                `json:"rollback,omitempty"`
	Runs      []runSummary                 `json:"runs"`
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
	ns := s.clients.Namespace
	v := statusView{App: rel.App, Namespace: ns, Services: map[string]map[string]string{}, Colors: map[plan.Color]*colorStatus{}, Runs: []runSummary{}}
	kc := s.clients.Kube
	for _, name := range []string{rel.ActiveService, rel.PreviewService} {
		svc, err := kc.CoreV1().Services(ns).Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			return fmt.Errorf("get service %s/%s: %w", ns, name, err)
		}
		v.Services[name] = svc.Spec.Selector
		if name == rel.ActiveService {
			v.Active = plan.Color(svc.Spec.Selector[rel.ColorLabel])
		}
	}
	split, err := g.trafficSplit(ctx, s, ns, rel, v.Services[rel.ActiveService])
	if err != nil {
		return err
	}
	for _, c := range []plan.Color{plan.Blue, plan.Green} {
		cs := &colorStatus{Deployment: plan.DeploymentName(rel.App, c), Traffic: split[c]}
		d, err := kc.AppsV1().Deployments(ns).Get(ctx, cs.Deployment, metav1.GetOptions{})
		if err == nil {
			cs.Exists, cs.Ready, cs.Desired = true, d.Status.ReadyReplicas, ptr.Deref(d.Spec.Replicas, 1)
			if len(d.Spec.Template.Spec.Containers) > 0 {
				cs.Image = d.Spec.Template.Spec.Containers[0].Image
			}
		} else if !apierrors.IsNotFound(err) {
			return fmt.Errorf("get deployment %s/%s: %w", ns, cs.Deployment, err)
		}
		v.Colors[c] = cs
	}
	recent, err := run.Runs(ctx, s.store, g.log, journal.Filter{Scope: journal.ScopeService, Context: s.clients.Context, Namespace: ns, App: rel.App, Limit: nRuns})
	if err != nil {
		return err
	}
	for _, r := range recent {
		v.Runs = append(v.Runs, summary(r))
	}
	v.Rollback = rollbackCostOf(v)
	if g.Output == "json" {
		enc := json.NewEncoder(g.out)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	return g.printStatus(v)
}

// trafficSplit counts the ready endpoints of the active Service per color:
// the share of traffic each color really receives.
func (g *Global) trafficSplit(ctx context.Context, s *session, ns string, rel plan.ServiceRelease, activeSel map[string]string) (map[plan.Color]int, error) {
	out := map[plan.Color]int{}
	kc := s.clients.Kube
	slices, err := kc.DiscoveryV1().EndpointSlices(ns).List(ctx, metav1.ListOptions{LabelSelector: "kubernetes.io/service-name=" + rel.ActiveService})
	if err != nil {
		return nil, fmt.Errorf("list endpointslices of %s/%s: %w", ns, rel.ActiveService, err)
	}
	// The app's pods of both colors: the active selector without its color.
	appSel := labels.Set{}
	for k, v := range activeSel {
		if k != rel.ColorLabel {
			appSel[k] = v
		}
	}
	pods, err := kc.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: appSel.String()})
	if err != nil {
		return nil, fmt.Errorf("list pods in %s: %w", ns, err)
	}
	color := map[string]plan.Color{}
	for _, p := range pods.Items {
		color[p.Name] = plan.Color(p.Labels[rel.ColorLabel])
	}
	counts, total := map[plan.Color]int{}, 0
	for _, sl := range slices.Items {
		for _, ep := range sl.Endpoints {
			if ep.TargetRef == nil || !ptr.Deref(ep.Conditions.Ready, false) {
				continue
			}
			counts[color[ep.TargetRef.Name]]++
			total++
		}
	}
	for c, n := range counts {
		out[c] = n * 100 / total
	}
	return out, nil
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
			fmt.Fprintf(g.out, "  %s  %-8s %-13s %s\n", r.ID, r.Operation, r.State, r.Reason)
		}
	}
	return nil
}
