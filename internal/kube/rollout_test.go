package kube

import (
	"errors"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

func TestRolloutComplete(t *testing.T) {
	stuck := appsv1.DeploymentCondition{Type: appsv1.DeploymentProgressing, Status: corev1.ConditionFalse, Reason: "ProgressDeadlineExceeded",
		Message: `ReplicaSet "shop-green-7d9" has timed out progressing.`}
	progressing := appsv1.DeploymentCondition{Type: appsv1.DeploymentProgressing, Status: corev1.ConditionTrue, Reason: "ReplicaSetUpdated"}
	tests := []struct {
		name     string
		gen      int64
		status   appsv1.DeploymentStatus
		done     bool
		why, err string
	}{
		{"done", 2, appsv1.DeploymentStatus{ObservedGeneration: 2, Replicas: 3, UpdatedReplicas: 3, ReadyReplicas: 3, AvailableReplicas: 3}, true, "", ""},
		{"spec not observed yet", 3, appsv1.DeploymentStatus{ObservedGeneration: 2, Conditions: []appsv1.DeploymentCondition{stuck}}, false, "observe the new spec", ""},
		{"pods not ready", 2, appsv1.DeploymentStatus{ObservedGeneration: 2, Replicas: 3, UpdatedReplicas: 3, ReadyReplicas: 1,
			Conditions: []appsv1.DeploymentCondition{progressing}}, false, "1 of 3 updated replicas ready", ""},
		{"progress deadline exceeded", 2, appsv1.DeploymentStatus{ObservedGeneration: 2, Replicas: 3, UpdatedReplicas: 3, ReadyReplicas: 1,
			Conditions: []appsv1.DeploymentCondition{stuck}}, false, "timed out progressing",
			`deployment prod/shop-green: ReplicaSet "shop-green-7d9" has timed out progressing. (its new pods did not become Ready within spec.progressDeadlineSeconds=30`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "shop-green", Namespace: "prod", Generation: tt.gen},
				Spec: appsv1.DeploymentSpec{Replicas: ptr.To[int32](3), ProgressDeadlineSeconds: ptr.To[int32](30)}, Status: tt.status}
			done, why, err := RolloutComplete(d)
			if done != tt.done || !strings.Contains(why, tt.why) {
				t.Fatalf("RolloutComplete = %v, %q; want %v, %q", done, why, tt.done, tt.why)
			}
			if tt.err == "" {
				if err != nil {
					t.Fatalf("error = %v, want none", err)
				}
				return
			}
			if !errors.Is(err, ErrProgressDeadline) || !strings.Contains(err.Error(), tt.err) || !strings.Contains(err.Error(), "raise progressDeadlineSeconds") {
				t.Fatalf("error = %v, want ErrProgressDeadline containing %q and the fix", err, tt.err)
			}
		})
	}
}
