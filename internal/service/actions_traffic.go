package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"sort"
	"time"

	"golang.org/x/sync/errgroup"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/bluegreen/bluegreen/internal/check"
	"github.com/bluegreen/bluegreen/internal/clock"
	"github.com/bluegreen/bluegreen/internal/engine"
	"github.com/bluegreen/bluegreen/internal/journal"
	"github.com/bluegreen/bluegreen/internal/kube"
	"github.com/bluegreen/bluegreen/internal/plan"
	"github.com/bluegreen/bluegreen/internal/traffic"
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
	checks := []check.Check{d.ReadyCheck(p.Namespace, p.Deployment)}
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

// ReadyCheck passes when every desired pod of a Deployment is Ready, so a
// crash-looping color fails it.
func (d Deps) ReadyCheck(ns, name string) check.Check {
	return check.CheckFunc{CheckName: "pods-ready", F: func(ctx context.Context, _ check.Target) (check.Result, error) {
		dep, err := d.Client.AppsV1().Deployments(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return check.Result{}, fmt.Errorf("get deployment %s/%s: %w", ns, name, err)
		}
		ok, why, err := kube.RolloutComplete(dep)
		return check.Result{Name: "pods-ready", Passed: ok, Attempts: 1, Detail: why}, err
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

// SwitchOutput records when traffic moved; the scale-down delay counts
// from it, at every scope that switches.
type SwitchOutput struct {
	SwitchedAt time.Time `json:"switchedAt"`
}

// targets are the service-scope router's targets for the release's two
// Services.
func targets(p plan.SwitchParams) (active, preview traffic.Target, err error) {
	_, active, preview, err = traffic.Service(traffic.ServiceSwitch{
		Namespace: p.Namespace, Active: p.ActiveService, Preview: p.PreviewService, ColorLabel: p.ColorLabel})
	return active, preview, err
}

// shift points the active Service at to and the preview at the other color,
// then waits until the active Service's EndpointSlices list only to's pods.
// It first waits (bounded) until to has at least need Ready pods and all of
// its pods are Ready, and refuses when fewer than need (or none) are: a
// Deployment's status can lag behind its pods right after a scale-up, so
// the pods themselves are read.
//
// need is read at the same time as the Service: both are on the path to
// the switch.
func (d Deps) shift(ctx context.Context, x engine.Exec, p plan.SwitchParams, to plan.Color, need func(context.Context) (int32, error), timeout time.Duration) error {
	var svc *corev1.Service
	var n int32
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) {
		n, err = need(gctx)
		return err
	})
	g.Go(func() (err error) {
		svc, err = d.activeService(gctx, x, p)
		return err
	})
	if err := g.Wait(); err != nil {
		return err
	}
	sel := switchSelector(svc, p, to)
	if err := d.waitPodsReady(ctx, x, p.Namespace, sel, int(max(n, 1)), timeout); err != nil {
		return fmt.Errorf("refusing to point Service %s at %s: %w", p.ActiveService, to, err)
	}
	active, preview, err := targets(p)
	if err != nil {
		return err
	}
	if err := d.Router.Shift(ctx, active, traffic.All(string(to), string(to.Other()))); err != nil {
		return err
	}
	if err := d.Router.Shift(ctx, preview, traffic.All(string(to.Other()), string(to))); err != nil {
		return err
	}
	return WaitEndpoints(ctx, d.Clock, d.Client, p.Namespace, p.ActiveService, sel, d.EndpointTimeout)
}

// activeService reads the Service production goes through, once for the
// step's execution x (engine.Once).
func (d Deps) activeService(ctx context.Context, x engine.Exec, p plan.SwitchParams) (*corev1.Service, error) {
	return engine.Once(x, "service/"+p.Namespace+"/"+p.ActiveService, func() (*corev1.Service, error) {
		svc, err := d.Client.CoreV1().Services(p.Namespace).Get(ctx, p.ActiveService, metav1.GetOptions{})
		if err != nil {
			return nil, kubeErr(fmt.Errorf("get service %s/%s: %w", p.Namespace, p.ActiveService, err))
		}
		return svc, nil
	})
}

// switchSelector is the active Service's selector pointed at color to.
func switchSelector(svc *corev1.Service, p plan.SwitchParams, to plan.Color) map[string]string {
	sel := maps.Clone(svc.Spec.Selector)
	if sel == nil {
		sel = map[string]string{}
	}
	sel[p.ColorLabel] = string(to)
	return sel
}

// prefetchSwitch makes the switch's first reads (the serving color's ready
// count, the active Service, the pods of the color it switches to) while
// the engine writes the step's start; prefetchSwitchBack makes those of
// its undo while the rollback's first write goes out.
func (d Deps) prefetchSwitch(ctx context.Context, x engine.Exec)     { d.prefetchShift(ctx, x, false) }
func (d Deps) prefetchSwitchBack(ctx context.Context, x engine.Exec) { d.prefetchShift(ctx, x, true) }

func (d Deps) prefetchShift(ctx context.Context, x engine.Exec, back bool) {
	p, err := params[plan.SwitchParams](x)
	if err != nil {
		return
	}
	to := p.To
	if back {
		to = p.From
	} else {
		go func() { _, _ = d.activeReady(ctx, x, p.Namespace, p.MinReadyFrom) }()
	}
	svc, err := d.activeService(ctx, x, p)
	if err != nil {
		return
	}
	sel := labels.SelectorFromSet(switchSelector(svc, p, to)).String()
	_, _ = d.podsOnce(ctx, x, p.Namespace, sel)
}

// podsOnce lists the pods sel matches from the watch cache, once for the
// step's execution x.
func (d Deps) podsOnce(ctx context.Context, x engine.Exec, ns, sel string) (*corev1.PodList, error) {
	return engine.Once(x, "pods/"+ns+"/"+sel, func() (*corev1.PodList, error) {
		return d.Client.CoreV1().Pods(ns).List(ctx, cachedList(sel))
	})
}

// waitPodsReady waits until at least need pods match sel and every
// non-terminating one is Ready. At the timeout it settles for need Ready
// pods, and fails with fewer.
func (d Deps) waitPodsReady(ctx context.Context, x engine.Exec, ns string, sel map[string]string, need int, timeout time.Duration) error {
	var ready, total int
	selector := labels.SelectorFromSet(sel).String()
	count := func(ctx context.Context) (bool, error) {
		// The first count may take the list the step's Prefetch made;
		// every later one lists afresh.
		pods, err := d.podsOnce(ctx, x, ns, selector)
		engine.Forget(x, "pods/"+ns+"/"+selector)
		if err != nil {
			return false, kubeErr(fmt.Errorf("list pods %v: %w", sel, err))
		}
		ready, total = 0, 0
		for i := range pods.Items {
			if pods.Items[i].DeletionTimestamp != nil {
				continue
			}
			total++
			if podReady(&pods.Items[i]) {
				ready++
			}
		}
		return ready >= need && ready == total, nil
	}
	err := poll(ctx, d.Clock, timeout, count)
	switch {
	case !errors.Is(err, errTimeout):
		return err
	case ready >= need:
		d.Log.Warn("switching with part of the pods ready", "ready", ready, "pods", total, "selector", sel)
		return nil
	}
	return fmt.Errorf("%d ready pods match %v after %s (%d pods), need %d", ready, sel, timeout, total, need)
}

// atLeast is a shift's need when it is known beforehand.
func atLeast(n int32) func(context.Context) (int32, error) {
	return func(context.Context) (int32, error) { return n, nil }
}

// activeReady is how many ready pods the Deployment serving production has:
// the new color must match it before it takes the traffic.
func (d Deps) activeReady(ctx context.Context, x engine.Exec, ns, name string) (int32, error) {
	if name == "" {
		return 1, nil
	}
	return engine.Once(x, "ready/"+ns+"/"+name, func() (int32, error) {
		dep, err := d.Client.AppsV1().Deployments(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return 0, kubeErr(fmt.Errorf("get deployment %s/%s: %w", ns, name, err))
		}
		return dep.Status.ReadyReplicas, nil
	})
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func (d Deps) switchTraffic() engine.Action {
	return engine.Action{
		Prefetch:     d.prefetchSwitch,
		PrefetchUndo: d.prefetchSwitchBack,
		Do: func(ctx context.Context, x engine.Exec) (any, error) {
			p, err := params[plan.SwitchParams](x)
			if err != nil {
				return nil, err
			}
			var need int32
			activeReady := func(ctx context.Context) (n int32, err error) {
				need, err = d.activeReady(ctx, x, p.Namespace, p.MinReadyFrom)
				return need, err
			}
			timeout := p.ReadyTimeout.D()
			if timeout == 0 {
				timeout = d.EndpointTimeout
			}
			if err := d.shift(ctx, x, p, p.To, activeReady, timeout); err != nil {
				if need > 1 {
					err = fmt.Errorf("%w (%s serves production with %d ready pods; the new color must match it: check its autoscaler and quota, or raise --rollout-timeout)", err, p.MinReadyFrom, need)
				}
				return nil, err
			}
			return SwitchOutput{SwitchedAt: d.Clock.Now().UTC()}, nil
		},
		// The Service patches alone: the pods they would wait for are
		// those the dry run's earlier writes did not keep.
		DryRun: func(ctx context.Context, x engine.Exec) error {
			p, err := params[plan.SwitchParams](x)
			if err != nil {
				return err
			}
			active, preview, err := targets(p)
			if err != nil {
				return err
			}
			if err := d.Router.Shift(ctx, active, traffic.All(string(p.To), string(p.To.Other()))); err != nil {
				return err
			}
			return d.Router.Shift(ctx, preview, traffic.All(string(p.To.Other()), string(p.To)))
		},
		Undo: func(ctx context.Context, x engine.Exec) error {
			p, err := params[plan.SwitchParams](x)
			if err != nil {
				return err
			}
			// Back to the old color as soon as one of its pods is Ready:
			// production is failing on the new one.
			return d.shift(ctx, x, p, p.From, atLeast(1), d.EndpointTimeout)
		},
	}
}

func (d Deps) watch() engine.Action {
	return engine.Action{Do: func(ctx context.Context, x engine.Exec) (any, error) {
		p, err := params[plan.WatchParams](x)
		if err != nil {
			return nil, err
		}
		return nil, Watch(ctx, d.Clock, x.Run, p.Window, p.Interval, func(ctx context.Context) error {
			return d.runChecks(ctx, x.Run, p.ChecksParams)
		})
	}}
}

// Watch calls check every interval until window has passed since the run's
// switch step finished, and once more at its end; it returns check's first
// error. The window counts from the switch, so a resumed watch does not
// start over.
func Watch(ctx context.Context, clk clock.Clock, r *journal.Run, window, interval plan.Duration, check func(context.Context) error) error {
	from := clk.Now()
	if sw := r.Step("switch"); sw != nil && len(sw.Output) > 0 {
		var out SwitchOutput
		if json.Unmarshal(sw.Output, &out) == nil {
			from = out.SwitchedAt
		}
	}
	end := from.Add(window.D())
	for {
		if err := check(ctx); err != nil {
			return fmt.Errorf("watch window: %w", err)
		}
		next := clk.Now().Add(interval.D())
		if !next.Before(end) {
			if err := clk.SleepUntil(ctx, end); err != nil {
				return err
			}
			if err := check(ctx); err != nil {
				return fmt.Errorf("watch window: %w", err)
			}
			return nil
		}
		if err := clk.SleepUntil(ctx, next); err != nil {
			return err
		}
	}
}
