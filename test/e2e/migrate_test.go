package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/bluegreen/bluegreen/internal/check"

	"github.com/bluegreen/bluegreen/test/migrationbed"
)

// A full migration moves the stateless app and the StatefulSet's volume to
// B, walks the weights to 0/100 and prints a verified checklist; rollback
// brings everything back to A with the same volume.
func TestMigrateFullAndRollback(t *testing.T) {
	// Given a shop in A with one StatefulSet on an EBS volume whose PV is
	// Delete, and a check that needs a bearer token
	const token = "s3cr3t-bearer-token"
	health := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+token {
			http.Error(w, "no", http.StatusUnauthorized)
		}
	}))
	t.Cleanup(health.Close)
	mg := givenMigration(t, 1, migrationbed.Options{}, migrationbed.SpecOptions{Checks: []check.Spec{{Name: "shop-health",
		HTTP: &check.HTTPConfig{URL: health.URL, Headers: map[string]string{"Authorization": "Bearer " + token}}}}})
	db := mg.shop.StatefulSets[0]

	// When the migration is applied
	r := mg.mustCLI("apply")

	// Then traffic, data and the internal CNAME are on B, verified
	for _, want := range []string{"Plan: migrate shop", "handoff/shop/db/release-claims", "Verification checklist", "Migration run"} {
		if !strings.Contains(r.stdout, want) {
			t.Fatalf("output lacks %q:\n%s", want, r)
		}
	}
	if strings.Contains(r.stdout, "✗") {
		t.Fatalf("checklist has a failed item:\n%s", r.stdout)
	}
	if w := mg.weights(); w["blue"] != 0 || w["green"] != 100 {
		t.Fatalf("weights after migration = %v, want blue 0 green 100", w)
	}
	if got := mg.cname(db.CNAME); got != migrationbed.GreenValue(db) {
		t.Fatalf("cname %s = %q, want %q", db.CNAME, got, migrationbed.GreenValue(db))
	}
	mg.thenRunsIn("B")
	mg.thenNoVolumeDeleted()
	pv, err := mg.w.A.Client.CoreV1().PersistentVolumes().Get(context.Background(), db.PV, metav1.GetOptions{})
	if err != nil || pv.Spec.PersistentVolumeReclaimPolicy != corev1.PersistentVolumeReclaimRetain {
		t.Fatalf("A's pv %s after the hand-off: %v %v, want kept and Retain", db.PV, pv.Spec.PersistentVolumeReclaimPolicy, err)
	}
	auditLog, err := os.ReadFile(mg.audit)
	if err != nil {
		t.Fatal(err)
	}
	retained := strings.Index(string(auditLog), `step-done handoff/shop/db/retain`)
	released := strings.Index(string(auditLog), `step-done handoff/shop/db/release-claims`)
	if retained < 0 || released < 0 || retained > released {
		t.Fatalf("audit log does not show Retain verified before the claim was deleted (retain at %d, release at %d)", retained, released)
	}
	if strings.Contains(string(auditLog)+r.stdout+r.stderr, token) {
		t.Fatal("the check's bearer token reached the audit log or the output")
	}
	// And the run is recorded in A, with a copy in B, neither holding the
	// check's token in clear (every CLI call here ran from an empty home)
	mg.thenRecorded("succeeded", token)
	events, err := mg.w.A.Client.CoreV1().Events("shop").List(context.Background(), metav1.ListOptions{FieldSelector: "involvedObject.kind=StatefulSet,involvedObject.name=db"})
	if err != nil || len(events.Items) < 5 {
		t.Fatalf("events on statefulset shop/db in A: %d, %v; want one per hand-off step", len(events.Items), err)
	}

	// When it is rolled back
	mg.mustCLI("rollback")

	// Then everything is on A again, with the same volume bound to the same claim
	if w := mg.weights(); w["blue"] != 100 || w["green"] != 0 {
		t.Fatalf("weights after rollback = %v, want blue 100 green 0", w)
	}
	if got := mg.cname(db.CNAME); got != migrationbed.BlueValue(db) {
		t.Fatalf("cname %s = %q after rollback, want %q", db.CNAME, got, migrationbed.BlueValue(db))
	}
	mg.thenRunsIn("A")
	mg.thenNoVolumeDeleted()
	mg.thenRecorded("rolled-back", token)
}

// thenRecorded checks that the migration's newest run is recorded in A in
// state want, that B holds an identical copy, and that neither names any of
// secrets.
func (mg *migration) thenRecorded(want string, secrets ...string) {
	mg.t.Helper()
	inA, inB := mg.records(mg.w.A), mg.records(mg.w.B)
	if len(inA) == 0 || len(inB) == 0 || inA[0].GetName() != inB[0].GetName() {
		mg.t.Fatalf("run records: %d in A, %d in B; want the run in A and its copy in B", len(inA), len(inB))
	}
	recA, _, _ := unstructured.NestedMap(inA[0].Object, "status", "record")
	recB, _, _ := unstructured.NestedMap(inB[0].Object, "status", "record")
	if state, _ := recA["state"].(string); state != want || !reflect.DeepEqual(recA, recB) {
		mg.t.Fatalf("run %s is %q in A, want %q, and the copy in B must equal it:\nA: %v\nB: %v", inA[0].GetName(), recA["state"], want, recA, recB)
	}
	for _, rec := range []unstructured.Unstructured{inA[0], inB[0]} {
		js, err := json.Marshal(rec.Object)
		if err != nil {
			mg.t.Fatal(err)
		}
		for _, secret := range secrets {
			if strings.Contains(string(js), secret) {
				mg.t.Fatalf("the run record %s holds a secret in clear", rec.GetName())
			}
		}
	}
}
