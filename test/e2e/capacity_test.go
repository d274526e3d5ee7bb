package e2e

import (
	"context"
	"strings"
	"testing"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
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
	// And blue, now without traffic, stays at 3: its autoscaler is held there
	if s := e.state("shop"); s.BlueReplicas != 3 {
		t.Fatalf("blue after promote: %+v, want 3 replicas", s)
	}
	if lo, _, ok := e.hpaBounds("shop-blue"); !ok || lo != 3 {
		t.Fatalf("blue autoscaler min = %d (exists %v), want held at 3", lo, ok)
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

// A rollout the Deployment controller gave up on (ProgressDeadlineExceeded)
// fails the release at once, naming the Deployment and the fix, instead of
// waiting out --rollout-timeout.
func TestRolloutPastProgressDeadlineFailsAtOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	// Given shop live on blue, and green allowed 2 s to make progress
	e.givenBlueGreenApp("shop", v1, 2)
	patch := []byte(`{"spec":{"progressDeadlineSeconds":2}}`)
	if _, err := e.kube.AppsV1().Deployments(e.ns).Patch(ctx, "shop-green", types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	before := e.state("shop")

	// When a release's pods never become Ready (the test bed keeps pods of
	// images named "unready" Running but not Ready)
	r := e.cli(nil, "deploy", "shop", "--image", "registry.example.com/shop:3.0.0-unready", "--yes", "--rollout-timeout", "1m")

	// Then it fails on the progress deadline, not the rollout timeout, and
	// production stays on blue
	if r.code != 4 || !strings.Contains(r.stderr, "progress deadline") || !strings.Contains(r.stderr, "shop-green") ||
		!strings.Contains(r.stderr, "progressDeadlineSeconds") || strings.Contains(r.stderr, "did not roll out within") {
		d, _ := e.kube.AppsV1().Deployments(e.ns).Get(ctx, "shop-green", metav1.GetOptions{})
		t.Fatalf("want exit 4 naming shop-green's progress deadline and the fix, got %s\nshop-green: deadline %v status %+v",
			r, d.Spec.ProgressDeadlineSeconds, d.Status)
	}
	if got := e.state("shop"); got != before {
		t.Fatalf("after the failed rollout: %+v, want %+v", got, before)
	}
	e.waitEndpoints("shop", "blue")
}

// The old color keeps running at full size after a release, so a rollback
// only moves traffic; the next release takes that color over.
func TestOldColorStaysWarmForInstantRollback(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	// Given shop live on blue with 3 pods of v1
	e.givenBlueGreenApp("shop", v1, 3)

	// When v2 is released with the defaults
	e.mustCLI("deploy", "shop", "--image", v2, "--yes")

	// Then blue keeps its 3 pods of v1 and status calls a rollback instant
	want := appState{ActiveSelects: "green", PreviewSelects: "blue", BlueImage: v1, GreenImage: v2, BlueReplicas: 3, GreenReplicas: 3}
	if got := e.state("shop"); got != want {
		t.Fatalf("after deploy: %+v, want %+v", got, want)
	}
	e.waitReady("shop-blue", 3)
	if s := e.status("shop"); s.Rollback.Color != "blue" || s.Rollback.Cost != "instant" || s.Rollback.Ready != 3 {
		t.Fatalf("status rollback = %+v, want instant to blue with 3 ready", s.Rollback)
	}

	// When v3 is released while blue still runs v1 at full size
	e.mustCLI("deploy", "shop", "--image", v3, "--yes")

	// Then blue takes v3 and production, and green keeps v2 running
	want = appState{ActiveSelects: "blue", PreviewSelects: "green", BlueImage: v3, GreenImage: v2, BlueReplicas: 3, GreenReplicas: 3}
	if got := e.state("shop"); got != want {
		t.Fatalf("after the second deploy: %+v, want %+v", got, want)
	}
	e.waitEndpoints("shop", "blue")

	// When v3 is rolled back
	e.mustCLI("rollback", "shop")
	// Then green serves v2 again, and blue keeps v3 at full size for
	// re-testing through the preview Service until the next release
	want = appState{ActiveSelects: "green", PreviewSelects: "blue", BlueImage: v3, GreenImage: v2, BlueReplicas: 3, GreenReplicas: 3}
	if got := e.state("shop"); got != want {
		t.Fatalf("after rollback: %+v, want %+v", got, want)
	}
	e.waitEndpoints("shop", "green")
	e.waitEndpoints("shop-preview", "blue")

	// When v4 is released, it replaces v3 on blue
	e.mustCLI("deploy", "shop", "--image", v4, "--yes")
	if s := e.state("shop"); s.BlueImage != v4 || s.ActiveSelects != "blue" {
		t.Fatalf("after the release following the rollback: %+v, want blue serving %s", s, v4)
	}
}
