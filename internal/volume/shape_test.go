//go:build testbed

package volume

import (
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/bluegreen/bluegreen/internal/plan"
)

// statefulSet is StatefulSet name in A with replicas and one claim
// template per name in templates.
func statefulSet(name string, replicas int32, templates ...string) *appsv1.StatefulSet {
	labels := map[string]string{"app": name}
	sts := &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", Labels: labels},
		Spec: appsv1.StatefulSetSpec{
			Replicas: ptr.To(replicas), ServiceName: name,
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: corev1.PodSpec{
				Containers: []corev1.Container{{Name: "db", Image: "registry.example.com/db:1"}},
				// Pending pods are enough here: nothing schedules them.
				NodeSelector: map[string]string{"no-such-node": "true"},
			}},
		},
	}
	for _, t := range templates {
		sts.Spec.VolumeClaimTemplates = append(sts.Spec.VolumeClaimTemplates, corev1.PersistentVolumeClaim{
			ObjectMeta: metav1.ObjectMeta{Name: t},
			Spec: corev1.PersistentVolumeClaimSpec{AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
				Resources: corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}}},
		})
	}
	return sts
}

// A StatefulSet that grew (a replica, a claim template) after the plan was
// made stops its lane at the retain and the scale-source steps, naming the
// difference, before A is scaled down: the planned claims are no longer all
// of its volumes. One unchanged since the plan goes through.
func TestHandoffStopsWhenTheStatefulSetChangedSincePlanning(t *testing.T) {
	w := startHandoffWorld(t)
	ctx := ctxT(t)
	tests := []struct {
		name      string
		live      *appsv1.StatefulSet
		wantErr   string
		wantScale int32 // replicas in A after the step
	}{
		{"grew a replica", statefulSet("grew", 2, "data"), "replicas 2 (planned 1)", 2},
		{"gained a claim template", statefulSet("wal", 1, "data", "wal"), "wal-wal-0", 1},
		{"unchanged", statefulSet("same", 1, "data"), "", 0},
	}
	for _, tt := range tests {
		if _, err := w.a.Client.AppsV1().StatefulSets("default").Create(ctx, tt.live, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		for _, kind := range []string{plan.KindRetain, plan.KindScaleSource} {
			t.Run(tt.name+"/"+kind, func(t *testing.T) {
				// Given a plan made when the StatefulSet had one replica and one template
				name := tt.live.Name
				c := claimOn("vol-0123456789abcdef0")
				c.PVC, c.PV = "data-"+name+"-0", "pv-"+name
				if _, err := w.a.Client.CoreV1().PersistentVolumes().Create(ctx, csiPV(c.PV, c.VolumeID, corev1.PersistentVolumeReclaimDelete, nil), metav1.CreateOptions{}); err != nil && !strings.Contains(err.Error(), "already exists") {
					t.Fatal(err)
				}
				p := plan.HandoffParams{Namespace: "default", Name: name, Replicas: 1, Claims: []plan.ClaimObserved{c}, Timeout: plan.Duration(60e9)}

				// When the step runs
				err := runStep(ctx, w.actions[kind], exec(t, "run", kind, p))

				// Then it stops naming what changed, and A keeps its replicas
				if tt.wantErr == "" {
					if err != nil {
						t.Fatalf("%s: %v", kind, err)
					}
					return
				}
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), "default/"+name) {
					t.Fatalf("err = %v, want one naming statefulset default/%s and %q", err, name, tt.wantErr)
				}
				got, gerr := w.a.Client.AppsV1().StatefulSets("default").Get(ctx, name, metav1.GetOptions{})
				if gerr != nil {
					t.Fatal(gerr)
				}
				if *got.Spec.Replicas != tt.wantScale {
					t.Fatalf("statefulset %s has %d replicas in A, want %d", name, *got.Spec.Replicas, tt.wantScale)
				}
			})
		}
	}
}
