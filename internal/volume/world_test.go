package volume

import (
	"context"
	"encoding/json"
	"log/slog"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ec2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/bluegreen/bluegreen/internal/engine"
	"github.com/bluegreen/bluegreen/internal/journal"
	"github.com/bluegreen/bluegreen/internal/plan"
	"github.com/bluegreen/bluegreen/test/awsfake"
	"github.com/bluegreen/bluegreen/test/testbed"
)

// handoffWorld is a source and a target test-bed cluster and the AWS wire
// fake, with the hand-off's actions wired to them through the real clients.
type handoffWorld struct {
	a, b    *testbed.Cluster
	aws     *awsfake.Server
	env     Env
	actions map[string]engine.Action
}

func startHandoffWorld(t *testing.T) *handoffWorld {
	t.Helper()
	w := &handoffWorld{
		a:   testbed.StartT(t, testbed.Options{Name: "vol-a", Zones: []string{"us-east-1a"}}),
		b:   testbed.StartT(t, testbed.Options{Name: "vol-b", Zones: []string{"us-east-1a"}}),
		aws: awsfake.New(awsfake.Options{}).StartT(t),
	}
	w.env = Env{Source: w.a.Client, Target: w.b.Client, SourceName: "cluster-a", TargetName: "cluster-b",
		EC2: ec2.NewFromConfig(w.aws.AWSConfig()), Log: slog.New(slog.DiscardHandler), Poll: 50 * time.Millisecond}
	w.actions = Actions(w.env)
	return w
}

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
