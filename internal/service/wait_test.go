package service

import (
	"errors"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/bluegreen/bluegreen/internal/kube"
)

// A color scaled up from 0 after its template changed is never timed out
// by the controller (its condition stays NewReplicaSetAvailable): the wait
// applies the progress deadline itself, counting from the last change of
// the replica counts it saw.
func TestStallAppliesTheProgressDeadline(t *testing.T) {
	start := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	dep := func(ready int32, deadline *int32) *appsv1.Deployment {
		return &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "shop-green", Namespace: "prod", Generation: 2},
			Spec: appsv1.DeploymentSpec{Replicas: ptr.To[int32](2), ProgressDeadlineSeconds: deadline},
			Status: appsv1.DeploymentStatus{ObservedGeneration: 2, Replicas: 2, UpdatedReplicas: 2, ReadyReplicas: ready, AvailableReplicas: ready,
				Conditions: []appsv1.DeploymentCondition{{Type: appsv1.DeploymentProgressing, Status: corev1.ConditionTrue, Reason: "NewReplicaSetAvailable"}}}}
	}
	type obs struct {
		after time.Duration
		ready int32
	}
	tests := []struct {
		name     string
		deadline *int32
		seen     []obs
		wantErr  bool
	}{
		{"stuck past the deadline", ptr.To[int32](10), []obs{{0, 0}, {5 * time.Second, 0}, {11 * time.Second, 0}}, true},
		{"within the deadline", ptr.To[int32](10), []obs{{0, 0}, {9 * time.Second, 0}}, false},
		{"progress restarts the count", ptr.To[int32](10), []obs{{0, 0}, {8 * time.Second, 1}, {15 * time.Second, 1}}, false},
		{"no deadline set", nil, []obs{{0, 0}, {time.Hour, 0}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s stall
			var err error
			for _, o := range tt.seen {
				err = s.check(dep(o.ready, tt.deadline), start.Add(o.after))
			}
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if err != nil && (!errors.Is(err, kube.ErrProgressDeadline) || !strings.Contains(err.Error(), "shop-green") || !strings.Contains(err.Error(), "progressDeadlineSeconds=10")) {
				t.Fatalf("err = %v, want kube.ErrProgressDeadline naming shop-green and the deadline", err)
			}
		})
	}
}
