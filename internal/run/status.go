package run

import (
	"context"
	"fmt"
	"log/slog"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"github.com/bluegreen/bluegreen/internal/journal"
	"github.com/bluegreen/bluegreen/internal/plan"
)

// AppStatus is a service-scope app as it stands.
type AppStatus struct {
	App, Namespace string
	// Active is the color the active Service selects ("" when none).
	Active plan.Color
	// Services are the active and preview Services' selectors.
	Services map[string]map[string]string
	Colors   map[plan.Color]*ColorStatus
	// Rollback is what a rollback would cost now; nil when there is no
	// active color to roll back from.
	Rollback *RollbackCost
	// Runs are the last runs, newest first.
	Runs []*journal.Run
}

// ColorStatus is one color's Deployment as status shows it.
type ColorStatus struct {
	Deployment string `json:"deployment"`
	Exists     bool   `json:"exists"`
	Image      string `json:"image,omitempty"`
	Ready      int32  `json:"ready"`
	Desired    int32  `json:"desired"`
	Traffic    int    `json:"trafficPercent"`
}

// RollbackCost says what moving production back to the other color costs
// now: "instant" when it has as many ready pods as the active color, else
// "needs-scale-up" (a rollback scales it up and waits until it is Ready
// before traffic moves).
type RollbackCost struct {
	Color  plan.Color `json:"color,omitempty"`
	Cost   string     `json:"cost"`
	Ready  int32      `json:"ready"`
	Needed int32      `json:"needed"`
	// Reason says why there is nothing to roll back (cost "none").
	Reason string `json:"reason,omitempty"`
}

// Text says what a rollback would cost, as status prints it after
// "Rollback: ".
func (rc *RollbackCost) Text() string {
	switch rc.Cost {
	case "none":
		return fmt.Sprintf("nothing to roll back (%s)", rc.Reason)
	case "instant":
		return fmt.Sprintf("instant (%s has %d ready pods, production needs %d)", rc.Color, rc.Ready, rc.Needed)
	}
	return fmt.Sprintf("needs scale-up (%s has %d of %d ready pods; rollback scales it up and waits until Ready before moving traffic)", rc.Color, rc.Ready, rc.Needed)
}

// rollbackCost derives the rollback cost from both colors' readiness; nil
// when there is no active color to roll back from, cost "none" when the
// last run is already rolled back or aborted.
func rollbackCost(v AppStatus) *RollbackCost {
	if !v.Active.Valid() {
		return nil
	}
	if len(v.Runs) > 0 {
		if last := v.Runs[0]; last.State == journal.RolledBack || last.State == journal.Aborted {
			return &RollbackCost{Cost: "none", Reason: fmt.Sprintf("the last run %s is %s", last.ID, last.State)}
		}
	}
	act, other := v.Colors[v.Active], v.Colors[v.Active.Other()]
	if act == nil || other == nil || !act.Exists || !other.Exists {
		return nil
	}
	rc := &RollbackCost{Color: v.Active.Other(), Ready: other.Ready, Needed: max(act.Ready, 1), Cost: "instant"}
	if rc.Ready < rc.Needed {
		rc.Cost = "needs-scale-up"
	}
	return rc
}

// ServiceStatus reads a service-scope app in namespace ns (no write): both
// colors' Deployments, the Services' selectors, the share of traffic each
// color really receives, what a rollback would cost now, and the last
// nRuns runs journaled through kubeconfig context kctx.
func ServiceStatus(ctx context.Context, kc kubernetes.Interface, st journal.Store, log *slog.Logger, kctx, ns string,
	rel plan.ServiceRelease, nRuns int) (AppStatus, error) {
	v, err := ServiceState(ctx, kc, st, log, kctx, ns, rel, nRuns)
	if err != nil {
		return v, err
	}
	return v, addTraffic(ctx, kc, ns, rel, &v)
}

// ServiceStatusOf is ServiceStatus for runs the caller has read already
// (newest first, read before this is called, as ServiceState explains).
func ServiceStatusOf(ctx context.Context, kc kubernetes.Interface, ns string, rel plan.ServiceRelease, runs []*journal.Run) (AppStatus, error) {
	v := AppStatus{App: rel.App, Namespace: ns, Runs: runs}
	if err := serviceObjects(ctx, kc, ns, rel, &v); err != nil {
		return v, err
	}
	return v, addTraffic(ctx, kc, ns, rel, &v)
}

func addTraffic(ctx context.Context, kc kubernetes.Interface, ns string, rel plan.ServiceRelease, v *AppStatus) error {
	split, err := trafficSplit(ctx, kc, ns, rel, v.Services[rel.ActiveService])
	if err != nil {
		return err
	}
	for c, cs := range v.Colors {
		cs.Traffic = split[c]
	}
	return nil
}

// ServiceState is ServiceStatus without the share of traffic (no
// EndpointSlice or pod is read): what a controller decides on.
func ServiceState(ctx context.Context, kc kubernetes.Interface, st journal.Store, log *slog.Logger, kctx, ns string,
	rel plan.ServiceRelease, nRuns int) (AppStatus, error) {
	v := AppStatus{App: rel.App, Namespace: ns}
	// The runs first, then the objects: a run that ends while this reads
	// then shows as not yet ended beside the state it left, never as
	// ended beside the state from before it (which would look like a
	// release that did not take, and the controller would release again).
	f := ServiceKey(ns, rel.App).Filter(kctx)
	f.Limit = nRuns
	var err error
	if v.Runs, err = Runs(ctx, st, log, f); err != nil {
		return v, err
	}
	return v, serviceObjects(ctx, kc, ns, rel, &v)
}

// serviceObjects reads the app's Services and both colors' Deployments
// into v, and what a rollback would cost.
func serviceObjects(ctx context.Context, kc kubernetes.Interface, ns string, rel plan.ServiceRelease, v *AppStatus) error {
	v.Services, v.Colors = map[string]map[string]string{}, map[plan.Color]*ColorStatus{}
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
	for _, c := range []plan.Color{plan.Blue, plan.Green} {
		cs := &ColorStatus{Deployment: plan.DeploymentName(rel.App, c)}
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
	v.Rollback = rollbackCost(*v)
	return nil
}

// trafficSplit counts the ready endpoints of the active Service per color:
// the share of traffic each color really receives.
func trafficSplit(ctx context.Context, kc kubernetes.Interface, ns string, rel plan.ServiceRelease, activeSel map[string]string) (map[plan.Color]int, error) {
	out := map[plan.Color]int{}
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
