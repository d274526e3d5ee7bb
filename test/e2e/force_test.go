package e2e

import (
	"context"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"

	"github.com/bluegreen/bluegreen/internal/journal"
	"github.com/bluegreen/bluegreen/internal/runstore"
)

// With the run record gone, `rollback --force` still sends production back:
// it scales the old color up to production's size, waits until it is
// Ready, and switches; it is audited.
func TestForceRollbackWithoutARecord(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	// Given v2 released, blue scaled to zero, and the run record lost
	e.givenReleasedOldColorDown(3)
	e.deleteRecords()
	if r := e.cli(nil, "rollback", "shop"); r.code != 2 || !strings.Contains(r.stderr, "rollback shop --force") {
		t.Fatalf("a plain rollback with no record should fail pointing at --force, got %s", r)
	}

	// When it is rolled back by force
	r := e.mustCLI("rollback", "shop", "--force")

	// Then blue is back at full size and serves production, green keeps v2
	want := appState{ActiveSelects: "blue", PreviewSelects: "green", BlueImage: v1, GreenImage: v2, BlueReplicas: 3, GreenReplicas: 3}
	if got := e.state("shop"); got != want {
		t.Fatalf("after rollback --force: %+v, want %+v\n%s", got, want, r)
	}
	e.waitEndpoints("shop", "blue")
	if !strings.Contains(r.stdout, "Scaled shop-blue from 0 to 3") || !e.auditHas("force-rollback") {
		t.Fatalf("want the scale-up said and audited:\n%s", r)
	}
	if runs, err := e.runs().List(context.Background(), journal.Filter{}); err != nil || len(runs) != 0 {
		t.Fatalf("rollback --force recorded %d runs (%v), want none", len(runs), err)
	}

	// When the color to go back to is gone, it refuses and changes nothing
	if err := e.kube.AppsV1().Deployments(e.ns).Delete(context.Background(), "shop-green", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	svcRV, blueRV := e.resourceVersion("service", "shop"), e.resourceVersion("deployment", "shop-blue")
	r = e.cli(nil, "rollback", "shop", "--force")
	if r.code == 0 || !strings.Contains(r.stderr, "shop-green does not exist") || !strings.Contains(r.stderr, "cannot serve") {
		t.Fatalf("want a refusal naming shop-green, got %s", r)
	}
	if e.resourceVersion("service", "shop") != svcRV || e.resourceVersion("deployment", "shop-blue") != blueRV {
		t.Fatalf("a refused rollback --force changed the active Service or shop-blue")
	}
}

// When the old color's pods cannot come up, `rollback --force` puts its
// replicas back and leaves production where it is.
func TestForceRollbackRefusesWhenTheOtherColorCannotServe(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.givenReleasedOldColorDown(2)
	// Blue's pods can never be scheduled.
	patch := []byte(`{"spec":{"template":{"spec":{"nodeSelector":{"bluegreen.dev/no-such-node":"x"}}}}}`)
	if _, err := e.kube.AppsV1().Deployments(e.ns).Patch(context.Background(), "shop-blue", types.StrategicMergePatchType, patch, metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}

	r := e.cli(nil, "rollback", "shop", "--force", "--timeout", "3s")

	if r.code == 0 || !strings.Contains(r.stderr, "cannot serve") || !strings.Contains(r.stderr, "production stays on green") {
		t.Fatalf("want a refusal, got %s", r)
	}
	if s := e.state("shop"); s.ActiveSelects != "green" || s.BlueReplicas != 0 {
		t.Fatalf("after the refusal: %+v, want production on green and blue back at 0", s)
	}
	e.waitEndpoints("shop", "green")
}

// givenReleasedOldColorDown releases v2 of shop (n pods) and scales blue,
// the old color, to zero.
func (e *env) givenReleasedOldColorDown(n int32) {
	e.t.Helper()
	e.givenBlueGreenApp("shop", v1, n)
	e.mustCLI("deploy", "shop", "--image", v2, "--yes", "--keep-warm", "0")
	e.waitReady("shop-blue", 0)
}

// deleteRecords deletes every run record of the env's namespace, as a
// damaged or lost record would leave it.
func (e *env) deleteRecords() {
	e.t.Helper()
	dyn, err := dynamic.NewForConfig(cluster.Config)
	if err != nil {
		e.t.Fatal(err)
	}
	err = dyn.Resource(runstore.GVR).Namespace(e.ns).DeleteCollection(context.Background(), metav1.DeleteOptions{}, metav1.ListOptions{})
	if err != nil {
		e.t.Fatal(err)
	}
}
