package volume

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/bluegreen/bluegreen/internal/engine"
	"github.com/bluegreen/bluegreen/internal/journal"
	"github.com/bluegreen/bluegreen/internal/plan"
)

// exec is step kind of run with params p, as the engine hands it to the action.
func exec(t *testing.T, run, kind string, p any) engine.Exec {
	t.Helper()
	raw, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	return engine.Exec{Run: &journal.Run{ID: run}, Step: &journal.Step{Name: kind, Kind: kind, Params: raw}}
}

// claimOn is one claim of StatefulSet db in namespace shop on volume vol.
func claimOn(vol string) plan.ClaimObserved {
	return plan.ClaimObserved{PVC: "data-db-0", PV: "pvc-shop-db", VolumeID: vol, Zone: "us-east-1a", StorageClass: "gp3",
		Capacity: "10Gi", FSType: "ext4", Driver: CSIDriver, AccessModes: []string{"ReadWriteOnce"}, ReclaimPolicy: "Delete", VolumeHandle: vol}
}

// csiPV is a PV on volume vol with the given reclaim policy and labels.
func csiPV(name, vol string, policy corev1.PersistentVolumeReclaimPolicy, labels map[string]string) *corev1.PersistentVolume {
	return &corev1.PersistentVolume{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels},
		Spec: corev1.PersistentVolumeSpec{
			Capacity:                      corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("10Gi")},
			AccessModes:                   []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			PersistentVolumeReclaimPolicy: policy,
			StorageClassName:              "gp3",
			PersistentVolumeSource:        corev1.PersistentVolumeSource{CSI: &corev1.CSIPersistentVolumeSource{Driver: CSIDriver, VolumeHandle: vol, FSType: "ext4"}},
		},
	}
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// runStep runs an action as the engine does for a step not yet started:
// precondition, capture, do, verify.
func runStep(ctx context.Context, a engine.Action, x engine.Exec) error {
	if a.Precondition != nil {
		if err := a.Precondition(ctx, x); err != nil {
			return err
		}
	}
	if a.Capture != nil {
		before, err := a.Capture(ctx, x)
		if err != nil {
			return err
		}
		if x.Step.Before, err = json.Marshal(before); err != nil {
			return err
		}
	}
	if a.Do != nil {
		if _, err := a.Do(ctx, x); err != nil {
			return err
		}
	}
	if a.Verify != nil {
		return a.Verify(ctx, x)
	}
	return nil
}
