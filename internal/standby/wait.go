package standby

import (
	"context"
	"errors"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/bluegreen/bluegreen/internal/clock"
	"github.com/bluegreen/bluegreen/internal/kube"
)

// ErrNotReady marks a WaitReady that ended before every Deployment had
// rolled out.
var ErrNotReady = errors.New("not ready")

// readyPollInterval is how often WaitReady re-reads the Deployments.
const readyPollInterval = 250 * time.Millisecond

// WaitReady waits until every Deployment among refs has rolled out in dst:
// the controller saw its latest spec (observedGeneration ≥ generation) and
// all its replicas are updated and available, with no old replica left.
// Other kinds are ignored. It waits as long as ctx allows; when ctx ends
// first, the error wraps ErrNotReady and ctx's error and names the first
// Deployment not ready with its counts.
func WaitReady(ctx context.Context, clk clock.Clock, dst *Cluster, refs []ObjectRef) error {
	var pending []ObjectRef
	for _, r := range refs {
		if r.GroupVersionKind().GroupKind() == (schema.GroupKind{Group: appsv1.GroupName, Kind: "Deployment"}) {
			pending = append(pending, r)
		}
	}
	last := map[ObjectRef]string{}
	err := clock.Poll(ctx, clk, readyPollInterval, 0, func(ctx context.Context) (bool, error) {
		var err error
		pending, err = notReady(ctx, dst, pending, last)
		return err == nil && len(pending) == 0, err
	})
	if err == nil || ctx.Err() == nil || len(pending) == 0 {
		return err
	}
	r, more := pending[0], ""
	if len(pending) > 1 {
		more = fmt.Sprintf(" (and %d more Deployments)", len(pending)-1)
	}
	return fmt.Errorf("deployment %s/%s in target: %s%s: %w: %w",
		r.Namespace, r.Name, last[r], more, ErrNotReady, context.Cause(ctx))
}

// notReady returns the Deployments of refs that have not rolled out, and
// records each one's counts in last. A read that fails for a reason that
// may pass (the API server busy or unreachable, the client's rate limiter
// out of time) keeps the Deployment pending, so that the caller reports
// the timeout and the last counts rather than a transient error.
func notReady(ctx context.Context, dst *Cluster, refs []ObjectRef, last map[ObjectRef]string) ([]ObjectRef, error) {
	gvr := appsv1.SchemeGroupVersion.WithResource("deployments")
	var pending []ObjectRef
	for _, r := range refs {
		u, err := dst.Dynamic.Resource(gvr).Namespace(r.Namespace).Get(ctx, r.Name, metav1.GetOptions{})
		if err != nil {
			if permanent(err) {
				return nil, fmt.Errorf("read deployment %s/%s from target: %w", r.Namespace, r.Name, err)
			}
			if last[r] == "" {
				last[r] = "not read yet: " + err.Error()
			}
			pending = append(pending, r)
			continue
		}
		var d appsv1.Deployment
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &d); err != nil {
			return nil, fmt.Errorf("decode deployment %s/%s: %w", r.Namespace, r.Name, err)
		}
		done, counts, err := rolledOut(&d)
		if err != nil {
			return nil, fmt.Errorf("deployment %s/%s in target: %w", r.Namespace, r.Name, err)
		}
		last[r] = counts
		if !done {
			pending = append(pending, r)
		}
	}
	return pending, nil
}

// permanent reports API errors that waiting does not cure.
func permanent(err error) bool {
	return apierrors.IsNotFound(err) || apierrors.IsForbidden(err) || apierrors.IsUnauthorized(err) ||
		apierrors.IsBadRequest(err) || apierrors.IsInvalid(err) || apierrors.IsMethodNotSupported(err)
}

// rolledOut reports whether d has finished rolling out, by the module's
// one rule (kube.RolloutComplete), and its counts as "generation 2
// observed 2, replicas 2/2, updated 1/2, ready 1/2, available 1/2". A
// rollout past its progress deadline is an error: waiting cannot help.
func rolledOut(d *appsv1.Deployment) (bool, string, error) {
	done, _, err := kube.RolloutComplete(d)
	return done, kube.RolloutCounts(d), err
}
