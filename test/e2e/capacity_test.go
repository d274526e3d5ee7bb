package e2e

import (
	"context"
	"testing"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

// givenHPA gives deployment name an autoscaler of the same name.
func (e *env) givenHPA(name string, minReplicas, maxReplicas int32) {
	e.t.Helper()
	hpa := &autoscalingv2.HorizontalPodAutoscaler{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: e.ns},
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: name},
			MinReplicas:    ptr.To(minReplicas), MaxReplicas: maxReplicas,
		},
	}
	if _, err := e.kube.AutoscalingV2().HorizontalPodAutoscalers(e.ns).Create(context.Background(), hpa, metav1.CreateOptions{}); err != nil {
		e.t.Fatal(err)
	}
}

// hpaBounds returns the min and max replicas of an autoscaler, or ok=false
// when it does not exist.
func (e *env) hpaBounds(name string) (minReplicas, maxReplicas int32, ok bool) {
	e.t.Helper()
	h, err := e.kube.AutoscalingV2().HorizontalPodAutoscalers(e.ns).Get(context.Background(), name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return 0, 0, false
	}
	if err != nil {
		e.t.Fatal(err)
	}
	return ptr.Deref(h.Spec.MinReplicas, 1), h.Spec.MaxReplicas, true
}

// A paused release keeps its capacity: the idle color gets no autoscaler
// that could shrink it while it waits, and if it shrank anyway it is scaled
// back and must have as many ready pods as production before the switch.
func TestPausedReleaseSwitchesAtFullCapacity(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	// Given shop live on blue with 3 pods and an autoscaler (1–6)
	e.givenBlueGreenApp("shop", v1, 3)
	e.givenHPA("shop-blue", 1, 6)

	// When v2 is released with --pause
	e.mustCLI("deploy", "shop", "--image", v2, "--pause")

	// Then green has no autoscaler yet that could shrink it to 1
	if _, _, ok := e.hpaBounds("shop-green"); ok {
		t.Fatal("green got an autoscaler before it serves traffic")
	}

	// When green shrinks while the release waits (as an autoscaler would)
	e.scale("shop-green", 1)
	e.waitReady("shop-green", 1)
	// And the release is promoted
	r := e.mustCLI("promote", "shop")

	// Then green took production with blue's 3 ready pods, and got blue's autoscaler
	if s := e.state("shop"); s.ActiveSelects != "green" || s.GreenReplicas != 3 {
		t.Fatalf("after promote: %+v\n%s", s, r)
	}
	e.waitReady("shop-green", 3)
	if lo, hi, ok := e.hpaBounds("shop-green"); !ok || lo != 1 || hi != 6 {
		t.Fatalf("green autoscaler = %d–%d (exists %v), want blue's 1–6", lo, hi, ok)
	}

	// When it is rolled back
	e.mustCLI("rollback", "shop")
	// Then blue serves with its own autoscaler as before, and green's is gone
	if lo, hi, ok := e.hpaBounds("shop-blue"); !ok || lo != 1 || hi != 6 {
		t.Fatalf("blue autoscaler after rollback = %d–%d (exists %v), want 1–6", lo, hi, ok)
	}
	if _, _, ok := e.hpaBounds("shop-green"); ok {
		t.Fatal("green's autoscaler survived the rollback")
	}
	e.waitEndpoints("shop", "blue")
}
