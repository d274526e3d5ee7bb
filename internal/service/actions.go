package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"golang.org/x/sync/errgroup"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"github.com/bluegreen/bluegreen/internal/check"
	"github.com/bluegreen/bluegreen/internal/clock"
	"github.com/bluegreen/bluegreen/internal/engine"
	"github.com/bluegreen/bluegreen/internal/journal"
	"github.com/bluegreen/bluegreen/internal/kube"
	"github.com/bluegreen/bluegreen/internal/plan"
	"github.com/bluegreen/bluegreen/internal/traffic"
)

// Approver asks a person whether to switch production; nil means nobody can
// be asked (the run pauses instead).
type Approver func(ctx context.Context, r *journal.Run) (bool, error)

// Deps are what the service-scope actions act with.
type Deps struct {
	Client        kubernetes.Interface
	Router        traffic.Router
	Clock         clock.Clock
	Log           *slog.Logger
	CheckDefaults check.Defaults
	CheckOptions  []check.Option
	Approver      Approver
	// EndpointTimeout bounds the wait for EndpointSlices to follow a switch.
	EndpointTimeout time.Duration
}

// ErrNotApproved means the person asked declined the switch.
var ErrNotApproved = errors.New("switch not approved")

// Actions returns the engine actions for every service-scope step kind.
func Actions(d Deps) map[string]engine.Action {
	d = d.withDefaults()
	return map[string]engine.Action{
		plan.KindMirrorHPA:   sendsDo(d.mirrorHPA()),
		plan.KindHoldHPA:     sendsDo(d.holdHPA()),
		plan.KindSetImage:    sendsDo(d.setImage()),
		plan.KindScale:       sendsDo(d.scale()),
		plan.KindWaitRollout: d.waitRollout(),
		plan.KindChecks:      d.checks(),
		plan.KindApprove:     d.approve(),
		plan.KindSwitch:      d.switchTraffic(),
		plan.KindWatch:       d.watch(),
		plan.KindScaleDown:   sendsDo(d.scaleDown()),
	}
}

// sendsDo gives an action whose Do only reads and writes (it waits for
// nothing) that Do as its server dry run.
func sendsDo(a engine.Action) engine.Action {
	a.DryRun = func(ctx context.Context, x engine.Exec) error {
		_, err := a.Do(ctx, x)
		return err
	}
	return a
}

func (d Deps) withDefaults() Deps {
	if d.Clock == nil {
		d.Clock = clock.Real{}
	}
	if d.EndpointTimeout == 0 {
		d.EndpointTimeout = 60 * time.Second
	}
	return d
}

// kubeErr marks the API errors worth retrying as transient.
func kubeErr(err error) error { return kube.Transient(err) }

func params[T any](x engine.Exec) (T, error) {
	var p T
	err := x.Step.DecodeParams(&p)
	return p, err
}

// containerState is the before-state of set-image.
type containerState struct {
	Image string          `json:"image"`
	Env   []corev1.EnvVar `json:"env,omitempty"`
}

func (d Deps) setImage() engine.Action {
	// One read of the Deployment serves Capture and Do, and the object the
	// update returns serves Verify: engine.Once keeps them for the step's
	// execution.
	read := func(ctx context.Context, x engine.Exec, p plan.SetImageParams) (*appsv1.Deployment, error) {
		return engine.Once(x, "deployment/"+p.Namespace+"/"+p.Deployment, func() (*appsv1.Deployment, error) {
			dep, err := d.Client.AppsV1().Deployments(p.Namespace).Get(ctx, p.Deployment, metav1.GetOptions{})
			if err != nil {
				return nil, kubeErr(fmt.Errorf("get deployment %s/%s: %w", p.Namespace, p.Deployment, err))
			}
			return dep, nil
		})
	}
	get := func(ctx context.Context, x engine.Exec, p plan.SetImageParams) (*corev1.Container, error) {
		dep, err := read(ctx, x, p)
		if err != nil {
			return nil, err
		}
		for i := range dep.Spec.Template.Spec.Containers {
			if dep.Spec.Template.Spec.Containers[i].Name == p.Container {
				return &dep.Spec.Template.Spec.Containers[i], nil
			}
		}
		return nil, fmt.Errorf("deployment %s/%s has no container %q", p.Namespace, p.Deployment, p.Container)
	}
	// apply edits the container in a read-modify-write guarded by the
	// resourceVersion; a conflict is retried by the engine, from a new
	// read.
	apply := func(ctx context.Context, x engine.Exec, p plan.SetImageParams, edit func(*corev1.Container)) error {
		dep, err := read(ctx, x, p)
		if err != nil {
			return err
		}
		dep = dep.DeepCopy()
		for i := range dep.Spec.Template.Spec.Containers {
			if dep.Spec.Template.Spec.Containers[i].Name == p.Container {
				edit(&dep.Spec.Template.Spec.Containers[i])
			}
		}
		key := "deployment/" + p.Namespace + "/" + p.Deployment
		out, err := d.Client.AppsV1().Deployments(p.Namespace).Update(ctx, dep, metav1.UpdateOptions{})
		if err != nil {
			engine.Forget(x, key)
			return kubeErr(fmt.Errorf("set image of deployment %s/%s: %w", p.Namespace, p.Deployment, err))
		}
		engine.Remember(x, key, out)
		return nil
	}
	return engine.Action{
		Capture: func(ctx context.Context, x engine.Exec) (any, error) {
			p, err := params[plan.SetImageParams](x)
			if err != nil {
				return nil, err
			}
			c, err := get(ctx, x, p)
			if err != nil {
				return nil, err
			}
			return containerState{Image: c.Image, Env: slices.Clone(c.Env)}, nil
		},
		Do: func(ctx context.Context, x engine.Exec) (any, error) {
			p, err := params[plan.SetImageParams](x)
			if err != nil {
				return nil, err
			}
			return nil, apply(ctx, x, p, func(c *corev1.Container) {
				c.Image = p.Image
				c.Env = mergeEnv(c.Env, p.Env)
			})
		},
		Verify: func(ctx context.Context, x engine.Exec) error {
			p, err := params[plan.SetImageParams](x)
			if err != nil {
				return err
			}
			c, err := get(ctx, x, p)
			if err != nil {
				return err
			}
			if c.Image != p.Image {
				return fmt.Errorf("deployment %s/%s container %s has image %s, want %s", p.Namespace, p.Deployment, p.Container, c.Image, p.Image)
			}
			return nil
		},
		Undo: func(ctx context.Context, x engine.Exec) error {
			p, err := params[plan.SetImageParams](x)
			if err != nil {
				return err
			}
			if p.KeepAfterSwitch && Switched(x.Run) {
				via := p.RetestVia
				if via == "" {
					via = "the preview Service"
				}
				return engine.Keep(fmt.Sprintf("%s stays on %s for re-testing through %s", p.Image, p.Deployment, via))
			}
			var before containerState
			if err := x.Step.DecodeBefore(&before); err != nil {
				return err
			}
			return apply(ctx, x, p, func(c *corev1.Container) {
				c.Image = before.Image
				c.Env = before.Env
			})
		},
	}
}

// Switched reports whether the run's switch reached production: abort is
// refused for such a run (it needs rollback), and a rollback of it keeps
// the new version on the idle color.
func Switched(r *journal.Run) bool {
	s := r.Step("switch")
	return s != nil && s.State != journal.Pending && s.State != journal.Skipped
}

// mergeEnv sets the given variables, keeping the others in their order.
func mergeEnv(env []corev1.EnvVar, set map[string]string) []corev1.EnvVar {
	out := make([]corev1.EnvVar, 0, len(env)+len(set))
	seen := map[string]bool{}
	for _, e := range env {
		if v, ok := set[e.Name]; ok {
			e = corev1.EnvVar{Name: e.Name, Value: v}
			seen[e.Name] = true
		}
		out = append(out, e)
	}
	for _, k := range sortedKeys(set) {
		if !seen[k] {
			out = append(out, corev1.EnvVar{Name: k, Value: set[k]})
		}
	}
	return out
}

// scaleTo sets spec.replicas through the scale subresource.
func (d Deps) scaleTo(ctx context.Context, ns, name string, n int32) error {
	patch := fmt.Appendf(nil, `{"spec":{"replicas":%d}}`, n)
	_, err := d.Client.AppsV1().Deployments(ns).Patch(ctx, name, types.MergePatchType, patch, metav1.PatchOptions{}, "scale")
	if err != nil {
		return kubeErr(fmt.Errorf("scale deployment %s/%s to %d: %w", ns, name, n, err))
	}
	return nil
}

// replicas is a Deployment's spec.replicas, read once for the step's
// execution x (engine.Once).
func (d Deps) replicas(ctx context.Context, x engine.Exec, ns, name string) (int32, error) {
	return engine.Once(x, "replicas/"+ns+"/"+name, func() (int32, error) {
		dep, err := d.Client.AppsV1().Deployments(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return 0, kubeErr(fmt.Errorf("get deployment %s/%s: %w", ns, name, err))
		}
		return ptr.Deref(dep.Spec.Replicas, 1), nil
	})
}

// replicaState is the before-state of scale steps.
type replicaState struct {
	Replicas int32 `json:"replicas"`
}

func (d Deps) scale() engine.Action {
	return engine.Action{
		// A scale to the count the Deployment has changes nothing, unless
		// its undo has work of its own after a switch (scale the new color
		// to --keep-warm) that no earlier step covers.
		Settled: func(ctx context.Context, x engine.Exec) (string, bool, error) {
			p, err := params[plan.ScaleParams](x)
			if err != nil {
				return "", false, err
			}
			if p.KeepAfterSwitch && p.KeepWarm != nil && !p.Again {
				return "", false, nil
			}
			want, have := p.Replicas, int32(0)
			g, gctx := errgroup.WithContext(ctx)
			if p.FromActive != "" {
				g.Go(func() (err error) {
					want, err = d.replicas(gctx, x, p.FromNS(), p.FromActive)
					return err
				})
			}
			g.Go(func() (err error) {
				have, err = d.replicas(gctx, x, p.Namespace, p.Deployment)
				return err
			})
			if err := g.Wait(); err != nil {
				return "", false, err
			}
			return fmt.Sprintf("%s has %d replicas already", p.Deployment, have), have == want, nil
		},
		Capture: func(ctx context.Context, x engine.Exec) (any, error) {
			p, err := params[plan.ScaleParams](x)
			if err != nil {
				return nil, err
			}
			n, err := d.replicas(ctx, x, p.Namespace, p.Deployment)
			return replicaState{n}, err
		},
		Do: func(ctx context.Context, x engine.Exec) (any, error) {
			p, err := params[plan.ScaleParams](x)
			if err != nil {
				return nil, err
			}
			n := p.Replicas
			if p.FromActive != "" {
				if n, err = d.replicas(ctx, x, p.FromNS(), p.FromActive); err != nil {
					return nil, err
				}
			}
			return replicaState{n}, d.scaleTo(ctx, p.Namespace, p.Deployment, n)
		},
		Undo: func(ctx context.Context, x engine.Exec) error {
			p, err := params[plan.ScaleParams](x)
			if err != nil {
				return err
			}
			if p.KeepAfterSwitch && Switched(x.Run) {
				if p.KeepWarm == nil {
					return engine.Keep(fmt.Sprintf("%s keeps its pods, like an old color after a release", p.Deployment))
				}
				if err := d.scaleTo(ctx, p.Namespace, p.Deployment, *p.KeepWarm); err != nil {
					return err
				}
				return engine.Keep(fmt.Sprintf("%s scaled to %d (--keep-warm), not back to its old count", p.Deployment, *p.KeepWarm))
			}
			var before replicaState
			if err := x.Step.DecodeBefore(&before); err != nil {
				return err
			}
			return d.scaleTo(ctx, p.Namespace, p.Deployment, before.Replicas)
		},
	}
}

func (d Deps) waitRollout() engine.Action {
	return engine.Action{
		Do: func(ctx context.Context, x engine.Exec) (any, error) {
			p, err := params[plan.WaitRolloutParams](x)
			if err != nil {
				return nil, err
			}
			return nil, WaitRollout(ctx, d.Clock, d.Client, p.Namespace, p.Deployment, p.Timeout.D())
		},
	}
}
