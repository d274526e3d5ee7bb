package service

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/bluegreen/bluegreen/internal/engine"
	"github.com/bluegreen/bluegreen/internal/kube"
	"github.com/bluegreen/bluegreen/internal/plan"
)

// CreatedByAnnotation marks objects a run created, so its undo deletes only
// what it made.
const CreatedByAnnotation = "bluegreen.io/created-by-run"

// GetDeleter is the part of a typed client that DeleteIfCreatedBy needs.
type GetDeleter[T metav1.Object] interface {
	Get(ctx context.Context, name string, opts metav1.GetOptions) (T, error)
	Delete(ctx context.Context, name string, opts metav1.DeleteOptions) error
}

// DeleteIfCreatedBy deletes an object only if run created it (and it is
// still the same object): an undo never removes what someone else made.
func DeleteIfCreatedBy[T metav1.Object](ctx context.Context, c GetDeleter[T], kind, ns, name, run string) error {
	cur, err := c.Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return kubeErr(fmt.Errorf("get %s %s/%s: %w", kind, ns, name, err))
	}
	if cur.GetAnnotations()[CreatedByAnnotation] != run {
		return nil
	}
	uid := cur.GetUID()
	err = c.Delete(ctx, name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid}})
	if err != nil && !apierrors.IsNotFound(err) {
		return kubeErr(fmt.Errorf("delete %s %s/%s: %w", kind, ns, name, err))
	}
	return nil
}

// scaleDownState is the before-state of scale-down: the old color's replica
// count and the autoscaler that drove it, kept whole so undo recreates it.
type scaleDownState struct {
	Replicas int32                                  `json:"replicas"`
	HPA      *autoscalingv2.HorizontalPodAutoscaler `json:"hpa,omitempty"`
}

// hpaOf is the autoscaler that scales deployment, or nil. It lists from the
// API server's watch cache (resourceVersion "0"): a list without one is
// served only once that cache has caught up with etcd, and for a kind
// nobody wrote lately that waits for etcd's next progress notification,
// 60–100 ms after any write anywhere in the cluster. The cache lags by the
// time a watch event takes; an autoscaler created in that instant is not
// seen, so it is neither deleted nor recorded, and the undo leaves it as
// it is.
//
// Capture and Do share the list within one execution of the step
// (engine.Once); a scale-down that was due later and is done by another
// process lists afresh.
func (d Deps) hpaOf(ctx context.Context, x engine.Exec, ns, deployment string) (*autoscalingv2.HorizontalPodAutoscaler, error) {
	list, err := engine.Once(x, "hpas/"+ns, func() (*autoscalingv2.HorizontalPodAutoscalerList, error) {
		return d.Client.AutoscalingV2().HorizontalPodAutoscalers(ns).List(ctx, metav1.ListOptions{ResourceVersion: "0"})
	})
	if err != nil {
		return nil, kubeErr(fmt.Errorf("list autoscalers in %s: %w", ns, err))
	}
	for i := range list.Items {
		ref := list.Items[i].Spec.ScaleTargetRef
		if ref.Kind == "Deployment" && ref.Name == deployment {
			return &list.Items[i], nil
		}
	}
	return nil, nil
}

func (d Deps) scaleDown() engine.Action {
	return engine.Action{
		Capture: func(ctx context.Context, x engine.Exec) (any, error) {
			p, err := params[plan.ScaleDownParams](x)
			if err != nil {
				return nil, err
			}
			n, err := d.replicas(ctx, x, p.Namespace, p.Deployment)
			if err != nil {
				return nil, err
			}
			h, err := d.hpaOf(ctx, x, p.Namespace, p.Deployment)
			if h != nil {
				h = cleanHPA(h)
			}
			return scaleDownState{Replicas: n, HPA: h}, err
		},
		Do: func(ctx context.Context, x engine.Exec) (any, error) {
			p, err := params[plan.ScaleDownParams](x)
			if err != nil {
				return nil, err
			}
			// The delay counts from the journaled switch time, so it is exact
			// even when the run is resumed by another process.
			if sw := x.Run.Step(p.SwitchStep); sw != nil && len(sw.Output) > 0 {
				var out SwitchOutput
				if err := json.Unmarshal(sw.Output, &out); err != nil {
					return nil, fmt.Errorf("read switch time: %w", err)
				}
				// No process waits out the delay: the run is journaled
				// waiting, and whichever command comes after it is due
				// (resume, any verb on the app) scales down.
				if due := out.SwitchedAt.Add(p.Delay.D()); d.Clock.Now().Before(due) {
					return nil, &engine.Deferred{At: due, What: fmt.Sprintf("%s scales down to %d at %s", p.Deployment, p.KeepWarm,
						due.UTC().Format(time.RFC3339))}
				}
			}
			if h, err := d.hpaOf(ctx, x, p.Namespace, p.Deployment); err != nil {
				return nil, err
			} else if h != nil {
				err := d.Client.AutoscalingV2().HorizontalPodAutoscalers(p.Namespace).Delete(ctx, h.Name, metav1.DeleteOptions{})
				if err != nil && !apierrors.IsNotFound(err) {
					return nil, kubeErr(fmt.Errorf("delete autoscaler %s/%s: %w", p.Namespace, h.Name, err))
				}
			}
			return map[string]any{"scaledDownAt": d.Clock.Now().UTC()}, d.scaleTo(ctx, p.Namespace, p.Deployment, p.KeepWarm)
		},
		Undo: func(ctx context.Context, x engine.Exec) error {
			p, err := params[plan.ScaleDownParams](x)
			if err != nil {
				return err
			}
			var before scaleDownState
			if err := x.Step.DecodeBefore(&before); err != nil {
				return err
			}
			// Scale the old color back up and wait until it is Ready before the
			// switch back: traffic never goes to a color with no ready pod.
			// A color kept warm at full size needs neither: one read says so.
			dep, err := d.Client.AppsV1().Deployments(p.Namespace).Get(ctx, p.Deployment, metav1.GetOptions{})
			if err != nil {
				return kubeErr(fmt.Errorf("get deployment %s/%s: %w", p.Namespace, p.Deployment, err))
			}
			ready := false
			if ptr.Deref(dep.Spec.Replicas, 1) != before.Replicas {
				if err := d.scaleTo(ctx, p.Namespace, p.Deployment, before.Replicas); err != nil {
					return err
				}
			} else if ready, _, err = kube.RolloutComplete(dep); err != nil {
				return err
			}
			if before.HPA != nil {
				_, err := d.Client.AutoscalingV2().HorizontalPodAutoscalers(p.Namespace).Create(ctx, before.HPA, metav1.CreateOptions{})
				if err != nil && !apierrors.IsAlreadyExists(err) {
					return kubeErr(fmt.Errorf("recreate autoscaler %s/%s: %w", p.Namespace, before.HPA.Name, err))
				}
			}
			if ready {
				return nil
			}
			return WaitRollout(ctx, d.Clock, d.Client, p.Namespace, p.Deployment, 5*time.Minute)
		},
	}
}

// cleanHPA strips what the API server owns, so the spec can be recreated.
func cleanHPA(h *autoscalingv2.HorizontalPodAutoscaler) *autoscalingv2.HorizontalPodAutoscaler {
	out := &autoscalingv2.HorizontalPodAutoscaler{
		ObjectMeta: metav1.ObjectMeta{Name: h.Name, Namespace: h.Namespace, Labels: h.Labels, Annotations: h.Annotations},
		Spec:       *h.Spec.DeepCopy(),
	}
	return out
}
