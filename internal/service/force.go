package service

import (
	"context"
	"errors"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/bluegreen/bluegreen/internal/engine"
	"github.com/bluegreen/bluegreen/internal/plan"
)

// ErrCannotServe means a forced rollback found no color to go back to that
// can take production; nothing was switched.
var ErrCannotServe = errors.New("the other color cannot serve")

// Forced is what a forced rollback did.
type Forced struct {
	From, To plan.Color
	// ScaledFrom is the other color's replicas before it was scaled up to
	// ScaledTo; both 0 when it had enough ready pods already.
	ScaledFrom, ScaledTo int32
}

// ForceBack sends production back to the color the active Service does
// not select, reading only the cluster: no run record is needed, for the
// day the record is damaged or lost. The other color must be able to
// serve: if it has fewer ready pods than production has, it is scaled up
// to production's size and waited on for at most timeout. If it does not
// exist, or does not become Ready in time (its replicas are put back),
// ForceBack refuses with ErrCannotServe and switches nothing.
func ForceBack(ctx context.Context, d Deps, rel plan.ServiceRelease, timeout time.Duration) (Forced, error) {
	d = d.withDefaults()
	ns := rel.Namespace
	svc, err := d.Client.CoreV1().Services(ns).Get(ctx, rel.ActiveService, metav1.GetOptions{})
	if err != nil {
		return Forced{}, fmt.Errorf("read the active Service %s/%s: %w", ns, rel.ActiveService, err)
	}
	from := plan.Color(svc.Spec.Selector[rel.ColorLabel])
	if !from.Valid() {
		return Forced{}, fmt.Errorf("%w: Service %s/%s selects no color (label %s is %q): there is no other color to go back to",
			ErrCannotServe, ns, rel.ActiveService, rel.ColorLabel, from)
	}
	f := Forced{From: from, To: from.Other()}
	toName, fromName := plan.DeploymentName(rel.App, f.To), plan.DeploymentName(rel.App, from)
	to, err := d.Client.AppsV1().Deployments(ns).Get(ctx, toName, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return f, fmt.Errorf("%w: Deployment %s/%s does not exist; production stays on %s", ErrCannotServe, ns, toName, from)
	}
	if err != nil {
		return f, fmt.Errorf("read deployment %s/%s: %w", ns, toName, err)
	}
	active, err := d.Client.AppsV1().Deployments(ns).Get(ctx, fromName, metav1.GetOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		return f, fmt.Errorf("read deployment %s/%s: %w", ns, fromName, err)
	}
	need, size := int32(1), int32(1)
	if err == nil {
		need, size = max(active.Status.ReadyReplicas, 1), max(ptr.Deref(active.Spec.Replicas, 1), 1)
	}
	if to.Status.ReadyReplicas < need {
		f.ScaledFrom, f.ScaledTo = ptr.Deref(to.Spec.Replicas, 1), max(size, need)
		if err := d.scaleTo(ctx, ns, toName, f.ScaledTo); err != nil {
			return f, err
		}
		if err := WaitRollout(ctx, d.Clock, d.Client, ns, toName, timeout); err != nil {
			if uerr := d.scaleTo(context.WithoutCancel(ctx), ns, toName, f.ScaledFrom); uerr != nil {
				err = errors.Join(err, fmt.Errorf("put %s back to %d replicas: %w", toName, f.ScaledFrom, uerr))
			}
			return f, fmt.Errorf("%w: %s did not become Ready (%w); it is back at %d replicas and production stays on %s",
				ErrCannotServe, toName, err, f.ScaledFrom, from)
		}
	}
	p := plan.SwitchParams{Namespace: ns, ActiveService: rel.ActiveService, PreviewService: rel.PreviewService,
		ColorLabel: rel.ColorLabel, From: from, To: f.To, App: rel.App}
	return f, d.shift(ctx, engine.Exec{}, p, f.To, atLeast(need), timeout)
}
