package kube

import (
	"errors"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"
)

// ErrProgressDeadline means a Deployment's controller gave up on its
// rollout (condition Progressing=False, reason ProgressDeadlineExceeded):
// waiting longer cannot help.
var ErrProgressDeadline = errors.New("rollout exceeded its progress deadline")

// RolloutComplete reports whether a Deployment has finished rolling out:
// the controller saw the latest spec, every replica runs the latest template,
// is Ready, and no old replica is left. It returns an error wrapping
// ErrProgressDeadline, naming the Deployment, when the controller reports
// that the rollout exceeded spec.progressDeadlineSeconds.
func RolloutComplete(d *appsv1.Deployment) (bool, string, error) {
	want := ptr.Deref(d.Spec.Replicas, 1)
	s := d.Status
	if s.ObservedGeneration < d.Generation {
		return false, "waiting for the controller to observe the new spec", nil
	}
	for _, c := range s.Conditions {
		if c.Type == appsv1.DeploymentProgressing && c.Status == corev1.ConditionFalse && c.Reason == "ProgressDeadlineExceeded" {
			return false, c.Message, fmt.Errorf("%w: deployment %s/%s: %s (its new pods did not become Ready within spec.progressDeadlineSeconds=%d; "+
				"see `kubectl describe deployment %s -n %s`, fix the image or its readiness probe, or raise progressDeadlineSeconds)",
				ErrProgressDeadline, d.Namespace, d.Name, c.Message, ptr.Deref(d.Spec.ProgressDeadlineSeconds, 600), d.Name, d.Namespace)
		}
	}
	switch {
	case s.UpdatedReplicas < want:
		return false, fmt.Sprintf("%d of %d replicas updated", s.UpdatedReplicas, want), nil
	case s.Replicas > s.UpdatedReplicas:
		return false, fmt.Sprintf("%d old replicas pending termination", s.Replicas-s.UpdatedReplicas), nil
	case s.ReadyReplicas < want || s.AvailableReplicas < want:
		return false, fmt.Sprintf("%d of %d updated replicas ready", s.ReadyReplicas, want), nil
	}
	return true, "", nil
}

// RolloutCounts describes where a Deployment's rollout stands, for
// messages: generation seen, and replicas, updated, ready and available
// against the spec.
func RolloutCounts(d *appsv1.Deployment) string {
	want := ptr.Deref(d.Spec.Replicas, 1)
	st := d.Status
	return fmt.Sprintf("generation %d observed %d, replicas %d/%d, updated %d/%d, ready %d/%d, available %d/%d",
		d.Generation, st.ObservedGeneration, st.Replicas, want, st.UpdatedReplicas, want,
		st.ReadyReplicas, want, st.AvailableReplicas, want)
}
