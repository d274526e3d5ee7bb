package service

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"sort"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/bluegreen/bluegreen/internal/check"
	"github.com/bluegreen/bluegreen/internal/engine"
	"github.com/bluegreen/bluegreen/internal/journal"
	"github.com/bluegreen/bluegreen/internal/plan"
	"github.com/bluegreen/bluegreen/internal/traffic"
	"github.com/bluegreen/bluegreen/internal/traffic/selector"
)

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Release decodes the release spec a run was planned from.
func Release(r *journal.Run) (plan.ServiceRelease, error) {
	var rel plan.ServiceRelease
	if err := json.Unmarshal(r.Spec, &rel); err != nil {
		return rel, fmt.Errorf("run %s: decode release spec: %w", r.ID, err)
	}
	return rel, nil
}

// runChecks runs the pods-ready check and the release's checks against a color.
func (d Deps) runChecks(ctx context.Context, r *journal.Run, p plan.ChecksParams) error {
	rel, err := Release(r)
	if err != nil {
		return err
	}
	checks := []check.Check{d.readyCheck(p.Namespace, p.Deployment)}
	for _, s := range rel.Checks {
		c, err := check.Build(s, d.CheckDefaults, d.CheckOptions...)
		if err != nil {
			return err
		}
		checks = append(checks, c)
	}
	t := check.Target{App: rel.App, Namespace: p.Namespace, Color: string(p.Color), Image: p.Image, BaseURL: p.BaseURL, Phase: p.Phase}
	results, err := check.RunAll(ctx, checks, t)
	if err != nil {
		return err
	}
	for _, res := range results {
		if !res.Passed {
			return fmt.Errorf("check %s failed against %s after %d attempt(s): %s", res.Name, p.Color, res.Attempts, res.Detail)
		}
	}
	return nil
}

// readyCheck passes when every desired pod of a Deployment is Ready, so a
// crash-looping color fails it.
func (d Deps) readyCheck(ns, name string) check.Check {
	return check.CheckFunc{CheckName: "pods-ready", F: func(ctx context.Context, _ check.Target) (check.Result, error) {
		dep, err := d.Client.AppsV1().Deployments(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return check.Result{}, fmt.Errorf("get deployment %s/%s: %w", ns, name, err)
		}
		ok, why := RolloutComplete(dep)
		return check.Result{Name: "pods-ready", Passed: ok, Attempts: 1, Detail: why}, nil
	}}
}

func (d Deps) checks() engine.Action {
	return engine.Action{Do: func(ctx context.Context, x engine.Exec) (any, error) {
		p, err := params[plan.ChecksParams](x)
		if err != nil {
			return nil, err
		}
		return nil, d.runChecks(ctx, x.Run, p)
	}}
}

func (d Deps) approve() engine.Action {
	return engine.Action{Do: func(ctx context.Context, x engine.Exec) (any, error) {
		if x.Run.Approved {
			return nil, nil
		}
		rel, err := Release(x.Run)
		if err != nil {
			return nil, err
		}
		if rel.Approval == "pause" || d.Approver == nil {
			return nil, engine.ErrPaused
		}
		ok, err := d.Approver(ctx, x.Run)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, ErrNotApproved
		}
		x.Run.Approved = true
		return nil, nil
	}}
}

// switchOutput records when traffic moved; the scale-down delay counts from it.
type switchOutput struct {
	SwitchedAt time.Time `json:"switchedAt"`
}

func targets(p plan.SwitchParams) (active, preview traffic.Target) {
	opts := map[string]string{selector.LabelOption: p.ColorLabel}
	return traffic.Target{Namespace: p.Namespace, Name: p.ActiveService, Options: opts},
		traffic.Target{Namespace: p.Namespace, Name: p.PreviewService, Options: opts}
}

// shift points the active Service at to and the preview at the other color,
// refusing when to has no ready pod, then waits until the active Service's
// EndpointSlices list only to's pods.
func (d Deps) shift(ctx context.Context, p plan.SwitchParams, to plan.Color) error {
	dep, err := d.Client.AppsV1().Deployments(p.Namespace).Get(ctx, plan.DeploymentName(p.App, to), metav1.GetOptions{})
	if err != nil {
		return kubeErr(fmt.Errorf("get deployment of color %s: %w", to, err))
	}
	if dep.Status.ReadyReplicas == 0 {
		return fmt.Errorf("refusing to point Service %s at %s: Deployment %s has zero ready pods", p.ActiveService, to, dep.Name)
	}
	active, preview := targets(p)
	if err := d.Router.Shift(ctx, active, traffic.All(string(to), string(to.Other()))); err != nil {
		return err
	}
	if err := d.Router.Shift(ctx, preview, traffic.All(string(to.Other()), string(to))); err != nil {
		return err
	}
	svc, err := d.Client.CoreV1().Services(p.Namespace).Get(ctx, p.ActiveService, metav1.GetOptions{})
	if err != nil {
		return kubeErr(fmt.Errorf("get service %s/%s: %w", p.Namespace, p.ActiveService, err))
	}
	return WaitEndpoints(ctx, d.Client, p.Namespace, p.ActiveService, maps.Clone(svc.Spec.Selector), d.EndpointTimeout)
}

func (d Deps) switchTraffic() engine.Action {
	return engine.Action{
		Do: func(ctx context.Context, x engine.Exec) (any, error) {
			p, err := params[plan.SwitchParams](x)
			if err != nil {
				return nil, err
			}
			if err := d.shift(ctx, p, p.To); err != nil {
				return nil, err
			}
			return switchOutput{SwitchedAt: d.Clock.Now().UTC()}, nil
		},
		Undo: func(ctx context.Context, x engine.Exec) error {
			p, err := params[plan.SwitchParams](x)
			if err != nil {
				return err
			}
			return d.shift(ctx, p, p.From)
		},
	}
}

func (d Deps) watch() engine.Action {
	return engine.Action{Do: func(ctx context.Context, x engine.Exec) (any, error) {
		p, err := params[plan.WatchParams](x)
		if err != nil {
			return nil, err
		}
		// The window counts from the switch, so a resumed watch does not
		// start over.
		from := d.Clock.Now()
		if sw := x.Run.Step("switch"); sw != nil && len(sw.Output) > 0 {
			var out switchOutput
			if json.Unmarshal(sw.Output, &out) == nil {
				from = out.SwitchedAt
			}
		}
		end := from.Add(p.Window.D())
		for {
			if err := d.runChecks(ctx, x.Run, p.ChecksParams); err != nil {
				return nil, fmt.Errorf("watch window: %w", err)
			}
			next := d.Clock.Now().Add(p.Interval.D())
			if !next.Before(end) {
				if err := d.Clock.SleepUntil(ctx, end); err != nil {
					return nil, err
				}
				return nil, d.runChecks(ctx, x.Run, p.ChecksParams)
			}
			if err := d.Clock.SleepUntil(ctx, next); err != nil {
				return nil, err
			}
		}
	}}
}
