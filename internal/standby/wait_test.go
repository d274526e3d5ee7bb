package standby

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

func TestRolledOut(t *testing.T) {
	tests := []struct {
		name       string
		replicas   *int32
		generation int64
		status     appsv1.DeploymentStatus
		want       bool
		wantCounts string
	}{
		{"complete", ptr.To[int32](2), 3,
			appsv1.DeploymentStatus{ObservedGeneration: 3, Replicas: 2, UpdatedReplicas: 2, ReadyReplicas: 2, AvailableReplicas: 2},
			true, "generation 3 observed 3, replicas 2/2, updated 2/2, ready 2/2, available 2/2"},
		{"latest spec not seen yet", ptr.To[int32](2), 4,
			appsv1.DeploymentStatus{ObservedGeneration: 3, Replicas: 2, UpdatedReplicas: 2, ReadyReplicas: 2, AvailableReplicas: 2},
			false, "generation 4 observed 3, replicas 2/2, updated 2/2, ready 2/2, available 2/2"},
		{"old replica left", ptr.To[int32](2), 1,
			appsv1.DeploymentStatus{ObservedGeneration: 1, Replicas: 3, UpdatedReplicas: 2, ReadyReplicas: 3, AvailableReplicas: 2},
			false, "generation 1 observed 1, replicas 3/2, updated 2/2, ready 3/2, available 2/2"},
		{"not available", ptr.To[int32](2), 1,
			appsv1.DeploymentStatus{ObservedGeneration: 1, Replicas: 2, UpdatedReplicas: 2, ReadyReplicas: 1, AvailableReplicas: 1},
			false, "generation 1 observed 1, replicas 2/2, updated 2/2, ready 1/2, available 1/2"},
		{"replicas unset means one", nil, 1,
			appsv1.DeploymentStatus{ObservedGeneration: 1, Replicas: 1, UpdatedReplicas: 1, ReadyReplicas: 1, AvailableReplicas: 1},
			true, "generation 1 observed 1, replicas 1/1, updated 1/1, ready 1/1, available 1/1"},
		{"scaled to zero", ptr.To[int32](0), 2,
			appsv1.DeploymentStatus{ObservedGeneration: 2},
			true, "generation 2 observed 2, replicas 0/0, updated 0/0, ready 0/0, available 0/0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := &appsv1.Deployment{
				ObjectMeta: metav1.ObjectMeta{Generation: tt.generation},
				Spec:       appsv1.DeploymentSpec{Replicas: tt.replicas},
				Status:     tt.status,
			}
			got, counts, err := rolledOut(d)
			if err != nil || got != tt.want || counts != tt.wantCounts {
				t.Fatalf("rolledOut = %v, %q; want %v, %q", got, counts, tt.want, tt.wantCounts)
			}
		})
	}
}
