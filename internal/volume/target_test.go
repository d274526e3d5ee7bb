//go:build testbed

package volume

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/bluegreen/bluegreen/internal/plan"
)

// A PV that already exists in B on the handed-off volume is bound to a
// claim only when this run created it, and only once it is Retain: a
// foreign PV is refused with the fix, whatever its policy, and this run's
// PV that someone set to Delete is set back to Retain before the step ends.
func TestStaticPVReusesOnlyThisRunsRetainPV(t *testing.T) {
	w := startHandoffWorld(t)
	ctx := ctxT(t)
	const run = "20260101T000000-run"
	tests := []struct {
		name    string
		policy  corev1.PersistentVolumeReclaimPolicy
		labels  map[string]string
		wantErr string // "" means the step succeeds
	}{
		{"foreign Delete PV is refused", corev1.PersistentVolumeReclaimDelete, nil, "this run did not create it"},
		{"foreign Retain PV is refused", corev1.PersistentVolumeReclaimRetain, map[string]string{RunLabel: "other-run"}, "this run did not create it"},
		{"this run's PV set to Delete is made Retain", corev1.PersistentVolumeReclaimDelete, map[string]string{RunLabel: run}, ""},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Given a PV in B on the volume, under the planned name
			vol := "vol-0000000000000000" + string(rune('a'+i))
			c := claimOn(vol)
			c.PV = c.PV + "-" + string(rune('a'+i))
			if _, err := w.b.Client.CoreV1().PersistentVolumes().Create(ctx, csiPV(c.PV, vol, tt.policy, tt.labels), metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
			// When the static-pv step runs
			p := plan.HandoffParams{Namespace: "shop", Name: "db", Replicas: 1, Claims: []plan.ClaimObserved{c}, Timeout: plan.Duration(10e9)}
			_, err := w.actions[plan.KindStaticPV].Do(ctx, exec(t, run, plan.KindStaticPV, p))

			// Then a foreign PV is refused, naming it, and left as it was;
			// this run's PV is Retain
			got, gerr := w.b.Client.CoreV1().PersistentVolumes().Get(ctx, c.PV, metav1.GetOptions{})
			if gerr != nil {
				t.Fatal(gerr)
			}
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), c.PV) {
					t.Fatalf("err = %v, want one naming pv %s and %q", err, c.PV, tt.wantErr)
				}
				if got.Spec.PersistentVolumeReclaimPolicy != tt.policy {
					t.Fatalf("foreign pv changed to %s", got.Spec.PersistentVolumeReclaimPolicy)
				}
				return
			}
			if err != nil {
				t.Fatalf("static-pv: %v", err)
			}
			if got.Spec.PersistentVolumeReclaimPolicy != corev1.PersistentVolumeReclaimRetain {
				t.Fatalf("pv %s is %s after the step, want Retain", c.PV, got.Spec.PersistentVolumeReclaimPolicy)
			}
		})
	}
}
