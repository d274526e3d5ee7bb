package service

import (
	"context"
	"fmt"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/bluegreen/bluegreen/internal/engine"
	"github.com/bluegreen/bluegreen/internal/plan"
)

// hpaSpecState is the before-state of the autoscaler steps: the spec an
// autoscaler had, or nil when the step is to create it.
type hpaSpecState struct {
	Spec *autoscalingv2.HorizontalPodAutoscalerSpec `json:"spec,omitempty"`
}

func (d Deps) getHPA(ctx context.Context, ns, name string) (*autoscalingv2.HorizontalPodAutoscaler, error) {
	h, err := d.Client.AutoscalingV2().HorizontalPodAutoscalers(ns).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, kubeErr(fmt.Errorf("get autoscaler %s/%s: %w", ns, name, err))
	}
	return h, nil
}

// editHPA changes an existing autoscaler's spec in a read-modify-write
// guarded by the resourceVersion; a conflict is retried by the engine.
func (d Deps) editHPA(ctx context.Context, ns, name string, edit func(*autoscalingv2.HorizontalPodAutoscalerSpec)) error {
	h, err := d.getHPA(ctx, ns, name)
	if err != nil || h == nil {
		return err
	}
	edit(&h.Spec)
	if _, err := d.Client.AutoscalingV2().HorizontalPodAutoscalers(ns).Update(ctx, h, metav1.UpdateOptions{}); err != nil {
		return kubeErr(fmt.Errorf("update autoscaler %s/%s: %w", ns, name, err))
	}
	return nil
}

// captureHPA records the spec of an autoscaler, if it exists.
func (d Deps) captureHPA(ctx context.Context, ns, name string) (any, error) {
	h, err := d.getHPA(ctx, ns, name)
	if err != nil || h == nil {
		return hpaSpecState{}, err
	}
	return hpaSpecState{Spec: h.Spec.DeepCopy()}, nil
}

// restoreHPA puts back the spec captured before a step; it reports false
// when the autoscaler did not exist then.
func (d Deps) restoreHPA(ctx context.Context, x engine.Exec, ns, name string) (bool, error) {
	var before hpaSpecState
	if err := x.Step.DecodeBefore(&before); err != nil {
		return false, err
	}
	if before.Spec == nil {
		return false, nil
	}
	return true, d.editHPA(ctx, ns, name, func(s *autoscalingv2.HorizontalPodAutoscalerSpec) { *s = *before.Spec })
}

// mirrorHPA gives the new color an autoscaler like the old color's. It runs
// after the switch: the new color now serves, so the autoscaler may size it
// by load.
func (d Deps) mirrorHPA() engine.Action {
	return engine.Action{
		Capture: func(ctx context.Context, x engine.Exec) (any, error) {
			p, err := params[plan.MirrorHPAParams](x)
			if err != nil {
				return nil, err
			}
			return d.captureHPA(ctx, p.Namespace, p.NewHPA)
		},
		Do: func(ctx context.Context, x engine.Exec) (any, error) {
			p, err := params[plan.MirrorHPAParams](x)
			if err != nil {
				return nil, err
			}
			hpas := d.Client.AutoscalingV2().HorizontalPodAutoscalers(p.Namespace)
			src, err := hpas.Get(ctx, p.FromHPA, metav1.GetOptions{})
			if err != nil {
				return nil, kubeErr(fmt.Errorf("get autoscaler %s/%s: %w", p.Namespace, p.FromHPA, err))
			}
			spec := *src.Spec.DeepCopy()
			spec.ScaleTargetRef.Name = p.Deployment
			if cur, err := d.getHPA(ctx, p.Namespace, p.NewHPA); err != nil {
				return nil, err
			} else if cur != nil {
				return nil, d.editHPA(ctx, p.Namespace, p.NewHPA, func(s *autoscalingv2.HorizontalPodAutoscalerSpec) { *s = spec })
			}
			dst := &autoscalingv2.HorizontalPodAutoscaler{
				ObjectMeta: metav1.ObjectMeta{Name: p.NewHPA, Namespace: p.Namespace, Labels: src.Labels,
					Annotations: map[string]string{CreatedByAnnotation: x.Run.ID}},
				Spec: spec,
			}
			if _, err := hpas.Create(ctx, dst, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
				return nil, kubeErr(fmt.Errorf("create autoscaler %s/%s: %w", p.Namespace, p.NewHPA, err))
			}
			return nil, nil
		},
		Undo: func(ctx context.Context, x engine.Exec) error {
			p, err := params[plan.MirrorHPAParams](x)
			if err != nil {
				return err
			}
			if existed, err := d.restoreHPA(ctx, x, p.Namespace, p.NewHPA); existed || err != nil {
				return err
			}
			return DeleteIfCreatedBy(ctx, d.Client.AutoscalingV2().HorizontalPodAutoscalers(p.Namespace), "autoscaler", p.Namespace, p.NewHPA, x.Run.ID)
		},
	}
}

// holdHPA raises an autoscaler's minReplicas to a color's replica count, so
// the autoscaler of a color without traffic (idle before the switch, old
// after it) cannot shrink it: the release keeps its capacity for the switch
// and a rollback stays instant.
func (d Deps) holdHPA() engine.Action {
	return engine.Action{
		Capture: func(ctx context.Context, x engine.Exec) (any, error) {
			p, err := params[plan.HoldHPAParams](x)
			if err != nil {
				return nil, err
			}
			return d.captureHPA(ctx, p.Namespace, p.HPA)
		},
		Do: func(ctx context.Context, x engine.Exec) (any, error) {
			p, err := params[plan.HoldHPAParams](x)
			if err != nil {
				return nil, err
			}
			floor, err := d.replicas(ctx, x, p.Namespace, p.FloorFrom)
			if err != nil {
				return nil, err
			}
			return map[string]int32{"minReplicas": floor}, d.editHPA(ctx, p.Namespace, p.HPA, func(s *autoscalingv2.HorizontalPodAutoscalerSpec) {
				if floor > ptr.Deref(s.MinReplicas, 1) {
					s.MinReplicas = ptr.To(floor)
				}
				s.MaxReplicas = max(s.MaxReplicas, ptr.Deref(s.MinReplicas, 1))
			})
		},
		Undo: func(ctx context.Context, x engine.Exec) error {
			p, err := params[plan.HoldHPAParams](x)
			if err != nil {
				return err
			}
			_, err = d.restoreHPA(ctx, x, p.Namespace, p.HPA)
			return err
		},
	}
}
