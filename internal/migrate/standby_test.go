//go:build testbed

package migrate

import (
	"context"
	"encoding/json"
	"log/slog"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/bluegreen/bluegreen/internal/awscluster"
	"github.com/bluegreen/bluegreen/internal/engine"
	"github.com/bluegreen/bluegreen/internal/journal"
	"github.com/bluegreen/bluegreen/internal/plan"
	"github.com/bluegreen/bluegreen/internal/standby"
	"github.com/bluegreen/bluegreen/test/awsfake"
	"github.com/bluegreen/bluegreen/test/testbed"
)

// Undoing the warm standby deletes a namespace it created in B only when
// the namespace holds nothing else: a claim provisioned there since (by
// whatever runs in B) survives the rollback with its namespace, while the
// copied objects go; an untouched namespace is deleted.
func TestStandbyUndoKeepsANamespaceWithOthersObjects(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	a := testbed.StartT(t, testbed.Options{Name: "standby-undo-a", Nodes: -1})
	b := testbed.StartT(t, testbed.Options{Name: "standby-undo-b", Nodes: -1, ServiceCIDR: "10.97.0.0/24"})
	src, err := standby.NewCluster(a.Config)
	if err != nil {
		t.Fatal(err)
	}
	dst, err := standby.NewCluster(b.Config)
	if err != nil {
		t.Fatal(err)
	}
	fake := awsfake.New(awsfake.Options{}).StartT(t)
	env := Env{Source: a.Client, Target: b.Client, SourceObjects: src, TargetObjects: dst, SourceName: "cluster-a", TargetName: "cluster-b",
		AWS: awscluster.FromConfig(fake.AWSConfig()), Log: slog.New(slog.DiscardHandler)}
	act := Actions(env)[plan.KindStandby]

	tests := []struct {
		ns          string
		addedInB    bool
		wantDeleted bool
	}{
		{"shop", true, false},
		{"blog", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.ns, func(t *testing.T) {
			// Given a namespace of A with a ConfigMap, copied to B by the standby step
			if _, err := a.Client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: tt.ns}}, metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
			cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "web-config", Labels: map[string]string{"app": "web"}}, Data: map[string]string{"k": "v"}}
			if _, err := a.Client.CoreV1().ConfigMaps(tt.ns).Create(ctx, cm, metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
			raw, _ := json.Marshal(plan.StandbyParams{Workloads: plan.Workloads{Namespaces: []string{tt.ns}, Kinds: []string{"ConfigMap"}, Selector: "app=web"}})
			x := engine.Exec{Run: &journal.Run{ID: "run"}, Step: &journal.Step{Name: "standby-copy", Kind: plan.KindStandby, Params: raw}}
			before, err := act.Capture(ctx, x)
			if err != nil {
				t.Fatal(err)
			}
			if x.Step.Before, err = json.Marshal(before); err != nil {
				t.Fatal(err)
			}
			if _, err := act.Do(ctx, x); err != nil {
				t.Fatal(err)
			}
			// And, when asked, a claim provisioned in B's copy of the namespace since
			if tt.addedInB {
				pvc := &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: "data-cache-0"}, Spec: corev1.PersistentVolumeClaimSpec{
					AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
					Resources:   corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}}}}
				if _, err := b.Client.CoreV1().PersistentVolumeClaims(tt.ns).Create(ctx, pvc, metav1.CreateOptions{}); err != nil {
					t.Fatal(err)
				}
			}

			// When the step is undone
			if err := act.Undo(ctx, x); err != nil {
				t.Fatalf("undo standby-copy: %v", err)
			}

			// Then the copied ConfigMap is gone, and the namespace only when it held nothing else
			if _, err := b.Client.CoreV1().ConfigMaps(tt.ns).Get(ctx, "web-config", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
				t.Fatalf("copied configmap in B after undo: %v", err)
			}
			ns, err := b.Client.CoreV1().Namespaces().Get(ctx, tt.ns, metav1.GetOptions{})
			deleted := apierrors.IsNotFound(err) || (err == nil && ns.DeletionTimestamp != nil)
			if deleted != tt.wantDeleted {
				t.Fatalf("namespace %s deleted = %v, want %v (err %v)", tt.ns, deleted, tt.wantDeleted, err)
			}
			if tt.addedInB {
				if _, err := b.Client.CoreV1().PersistentVolumeClaims(tt.ns).Get(ctx, "data-cache-0", metav1.GetOptions{}); err != nil {
					t.Fatalf("claim created in B since the copy: %v", err)
				}
			}
		})
	}
}
