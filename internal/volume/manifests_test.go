package volume

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/bluegreen/bluegreen/internal/plan"
)

func claim() plan.ClaimObserved {
	return plan.ClaimObserved{PVC: "data-db-0", PV: "pvc-1", VolumeID: "vol-0123456789abcdef0", Zone: "us-east-1a",
		StorageClass: "gp2", Capacity: "10Gi", FSType: "xfs", AccessModes: []string{"ReadWriteOnce"}}
}

func TestStaticPVCarriesTheVolumeExactly(t *testing.T) {
	tests := []struct {
		name     string
		override string
		wantSC   string
	}{
		{"storage class of A", "", "gp2"},
		{"storage class overridden for B", "gp3", "gp3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := plan.HandoffParams{Namespace: "shop", Name: "db", StorageClass: tt.override}
			pv := staticPVFor(p, claim(), "run-1")
			switch {
			case pv.Name != "pvc-1" || pv.Labels[RunLabel] != "run-1":
				t.Fatalf("name/labels: %s %v", pv.Name, pv.Labels)
			case pv.Spec.PersistentVolumeReclaimPolicy != corev1.PersistentVolumeReclaimRetain:
				t.Fatalf("reclaim policy %s, want Retain", pv.Spec.PersistentVolumeReclaimPolicy)
			case pv.Spec.CSI == nil || pv.Spec.CSI.Driver != CSIDriver || pv.Spec.CSI.VolumeHandle != "vol-0123456789abcdef0" || pv.Spec.CSI.FSType != "xfs":
				t.Fatalf("csi source %+v", pv.Spec.CSI)
			case pv.Spec.StorageClassName != tt.wantSC:
				t.Fatalf("storage class %q, want %q", pv.Spec.StorageClassName, tt.wantSC)
			case pv.Spec.ClaimRef == nil || pv.Spec.ClaimRef.Namespace != "shop" || pv.Spec.ClaimRef.Name != "data-db-0" || pv.Spec.ClaimRef.UID != "":
				t.Fatalf("claimRef %+v", pv.Spec.ClaimRef)
			case pv.Spec.Capacity.Storage().String() != "10Gi" || pv.Spec.AccessModes[0] != corev1.ReadWriteOnce:
				t.Fatalf("capacity/modes %v %v", pv.Spec.Capacity, pv.Spec.AccessModes)
			}
			req := pv.Spec.NodeAffinity.Required.NodeSelectorTerms[0].MatchExpressions[0]
			if req.Key != ZoneLabel || req.Values[0] != "us-east-1a" {
				t.Fatalf("zone affinity %+v", req)
			}
		})
	}
}

func TestPortableClaimKeepsOnlyWhatRebindsIt(t *testing.T) {
	pvc := &corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Name: "data-db-0", Namespace: "shop", UID: "u1", ResourceVersion: "7",
			Labels: map[string]string{"app": "db"},
			Annotations: map[string]string{
				"pv.kubernetes.io/bind-completed":                  "yes",
				"volume.kubernetes.io/storage-provisioner":         "ebs.csi.aws.com",
				"kubectl.kubernetes.io/last-applied-configuration": "{}",
				"team": "payments",
			}},
		Spec:   corev1.PersistentVolumeClaimSpec{StorageClassName: ptr.To("gp3"), VolumeName: "other"},
		Status: corev1.PersistentVolumeClaimStatus{Phase: corev1.ClaimBound},
	}
	got := portableClaim(pvc, "pvc-1")
	if got.UID != "" || got.ResourceVersion != "" || got.Status.Phase != "" {
		t.Fatalf("cluster-owned fields kept: %+v", got.ObjectMeta)
	}
	if len(got.Annotations) != 1 || got.Annotations["team"] != "payments" || got.Labels["app"] != "db" {
		t.Fatalf("annotations %v labels %v", got.Annotations, got.Labels)
	}
	if got.Spec.VolumeName != "pvc-1" || *got.Spec.StorageClassName != "gp3" {
		t.Fatalf("spec %+v", got.Spec)
	}
}

func TestPortableStatefulSetUsesThePlannedReplicas(t *testing.T) {
	src := &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Name: "db", Namespace: "shop", UID: "u", ResourceVersion: "9",
			Annotations: map[string]string{"kubectl.kubernetes.io/last-applied-configuration": "{}", "owner": "dba"}},
		Spec: appsv1.StatefulSetSpec{Replicas: ptr.To[int32](0), ServiceName: "db",
			VolumeClaimTemplates: []corev1.PersistentVolumeClaim{{ObjectMeta: metav1.ObjectMeta{Name: "data", UID: "t"},
				Spec: corev1.PersistentVolumeClaimSpec{StorageClassName: ptr.To("gp2")}}}},
		Status: appsv1.StatefulSetStatus{ReadyReplicas: 0},
	}
	got := portableStatefulSet(src, plan.HandoffParams{Replicas: 3, StorageClass: "gp3"}, "run-1")
	if *got.Spec.Replicas != 3 {
		t.Fatalf("replicas %d, want the 3 observed before A was scaled to 0", *got.Spec.Replicas)
	}
	if got.UID != "" || got.ResourceVersion != "" || got.Annotations["owner"] != "dba" || len(got.Annotations) != 1 || got.Labels[RunLabel] != "run-1" {
		t.Fatalf("metadata %+v", got.ObjectMeta)
	}
	vct := got.Spec.VolumeClaimTemplates[0]
	if vct.UID != "" || *vct.Spec.StorageClassName != "gp3" {
		t.Fatalf("claim template %+v", vct)
	}
}

func TestInstanceOf(t *testing.T) {
	for in, want := range map[string]string{
		"aws:///us-east-1a/i-0123456789abcdef0": "i-0123456789abcdef0",
		"kwok://node-1":                         "",
		"":                                      "",
	} {
		if got := instanceOf(corev1.Node{Spec: corev1.NodeSpec{ProviderID: in}}); got != want {
			t.Errorf("instanceOf(%q) = %q, want %q", in, got, want)
		}
	}
}
