package service

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/bluegreen/bluegreen/internal/clock"
	"github.com/bluegreen/bluegreen/internal/engine"
	"github.com/bluegreen/bluegreen/internal/kube"
	appsv1 "k8s.io/api/apps/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"
)

// cachedList lists from the API server's watch cache (resourceVersion 0)
// instead of a consistent read, which waits for the cache to catch up with
// etcd and costs tens of milliseconds per call. Every caller polls until a
// condition holds, so a list a few milliseconds old only means one more poll.
func cachedList(selector string) metav1.ListOptions {
	return metav1.ListOptions{LabelSelector: selector, ResourceVersion: "0"}
}

// pollInterval is how often waits re-read the cluster. Short, because the
// promote and rollback latency users feel includes one poll.
const pollInterval = 50 * time.Millisecond

// errTimeout is returned by poll when its timeout passes.
var errTimeout = clock.ErrTimeout

// poll is clock.Poll at the service scope's interval.
func poll(ctx context.Context, clk clock.Clock, timeout time.Duration, cond func(context.Context) (bool, error)) error {
	return clock.Poll(ctx, clk, pollInterval, timeout, cond)
}

// stall applies a Deployment's progress deadline from what the wait sees.
// The controller judges spec.progressDeadlineSeconds only for a rollout it
// saw start: a color at 0 replicas whose template changes is "complete" at
// once (condition reason NewReplicaSetAvailable), and when it is scaled up
// afterwards its pods are never timed out, however long they stay unready.
// So the wait also fails when the replica counts the controller reports
// (updated, ready, available) have not moved for the deadline.
type stall struct {
	counts [3]int32
	since  time.Time
}

func (s *stall) check(d *appsv1.Deployment, now time.Time) error {
	if d.Spec.ProgressDeadlineSeconds == nil || d.Status.ObservedGeneration < d.Generation {
		return nil
	}
	counts := [3]int32{d.Status.UpdatedReplicas, d.Status.ReadyReplicas, d.Status.AvailableReplicas}
	if s.since.IsZero() || counts != s.counts {
		s.counts, s.since = counts, now
		return nil
	}
	deadline := time.Duration(*d.Spec.ProgressDeadlineSeconds) * time.Second
	if now.Sub(s.since) <= deadline {
		return nil
	}
	return fmt.Errorf("%w: deployment %s/%s: no progress for %s, %d of %d updated replicas ready (its new pods did not become Ready within spec.progressDeadlineSeconds=%d; "+
		"see `kubectl describe deployment %s -n %s`, fix the image or its readiness probe, or raise progressDeadlineSeconds)",
		kube.ErrProgressDeadline, d.Namespace, d.Name, now.Sub(s.since).Round(time.Second), d.Status.ReadyReplicas, ptr.Deref(d.Spec.Replicas, 1),
		*d.Spec.ProgressDeadlineSeconds, d.Name, d.Namespace)
}

// WaitRollout waits until RolloutComplete holds or timeout passes, then
// reports what it was still waiting for. A rollout past its progress
// deadline fails at once. It reads the Deployment when a watch on it sees
// a change (a rollout is a few status updates), not every poll interval:
// a controller waits on many rollouts at once.
func WaitRollout(ctx context.Context, clk clock.Clock, c kubernetes.Interface, ns, name string, timeout time.Duration) error {
	var why string
	var st stall
	deadline := clk.Now().Add(timeout)
	watches := []kube.Watcher{kube.Named(c.AppsV1().Deployments(ns).Watch, name)}
	err := kube.WaitWatched(ctx, clk, pollInterval, timeout, watches, func(ctx context.Context) (bool, error) {
		d, err := c.AppsV1().Deployments(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, fmt.Errorf("get deployment %s/%s: %w", ns, name, err)
		}
		ok, w, err := kube.RolloutComplete(d)
		why = w
		if ok || err != nil {
			return ok, err
		}
		engine.Report(ctx, "%d/%d pods ready, %d updated; %s left", d.Status.ReadyReplicas, ptr.Deref(d.Spec.Replicas, 1), d.Status.UpdatedReplicas,
			deadline.Sub(clk.Now()).Round(time.Second))
		return false, st.check(d, clk.Now())
	})
	if errors.Is(err, errTimeout) {
		return fmt.Errorf("deployment %s/%s did not roll out within %s: %s", ns, name, timeout, why)
	}
	return err
}

// EndpointsOnly reports whether the Service's EndpointSlices list at least
// one ready endpoint and only pods matching selector. This is the moment
// traffic has really moved.
func EndpointsOnly(ctx context.Context, c kubernetes.Interface, ns, svc string, selector map[string]string) (bool, error) {
	pods, err := c.CoreV1().Pods(ns).List(ctx, cachedList(labels.SelectorFromSet(selector).String()))
	if err != nil {
		return false, fmt.Errorf("list pods of service %s/%s: %w", ns, svc, err)
	}
	want := map[string]bool{}
	for _, p := range pods.Items {
		want[p.Name] = true
	}
	slices, err := c.DiscoveryV1().EndpointSlices(ns).List(ctx, cachedList(discoveryv1.LabelServiceName+"="+svc))
	if err != nil {
		return false, fmt.Errorf("list endpointslices of service %s/%s: %w", ns, svc, err)
	}
	ready := 0
	for _, s := range slices.Items {
		for _, ep := range s.Endpoints {
			if ep.TargetRef == nil || !want[ep.TargetRef.Name] {
				return false, nil
			}
			if ptr.Deref(ep.Conditions.Ready, false) {
				ready++
			}
		}
	}
	return ready > 0, nil
}

// WaitEndpoints waits until EndpointsOnly holds.
func WaitEndpoints(ctx context.Context, clk clock.Clock, c kubernetes.Interface, ns, svc string, selector map[string]string, timeout time.Duration) error {
	err := poll(ctx, clk, timeout, func(ctx context.Context) (bool, error) { return EndpointsOnly(ctx, c, ns, svc, selector) })
	if errors.Is(err, errTimeout) {
		return fmt.Errorf("service %s/%s: endpoints did not converge on %v within %s", ns, svc, selector, timeout)
	}
	return err
}
