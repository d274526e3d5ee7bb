package e2e

import (
	"context"
	"encoding/json"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"

	"github.com/bluegreen/bluegreen/internal/traffic/externaldns"
	"github.com/bluegreen/bluegreen/test/migrationbed"
)

// With the external-dns router the weights live in annotations on each
// cluster's Service: B's standby copy gets B's own set identifier at weight
// 0 (not A's), the schedule moves the weights to B, rollback moves them
// back.
func TestMigrateThroughExternalDNSAnnotations(t *testing.T) {
	// Given A's web Service published by external-dns as the "blue" weighted record
	mg := givenMigration(t, 1, migrationbed.Options{}, migrationbed.SpecOptions{ExternalDNS: true, Steps: []int{50, 100}})
	ctx := context.Background()
	patch, err := json.Marshal(map[string]any{"metadata": map[string]any{"annotations": map[string]string{
		externaldns.HostnameAnnotation: migrationbed.Record, externaldns.SetIdentifierAnnotation: "blue", externaldns.WeightAnnotation: "100"}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := mg.w.A.Client.CoreV1().Services("shop").Patch(ctx, "web", types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}

	// When the migration runs
	mg.mustCLI("apply")

	// Then B's Service carries B's identifier with all the weight, A's none
	if got := annotations(t, mg.w.B.Client); got != "green/100" {
		t.Fatalf("B's web Service: %s, want green/100", got)
	}
	if got := annotations(t, mg.w.A.Client); got != "blue/0" {
		t.Fatalf("A's web Service: %s, want blue/0", got)
	}
	mg.thenRunsIn("B")

	// When it is rolled back, A has all the weight again
	mg.mustCLI("rollback")
	if got := annotations(t, mg.w.A.Client); got != "blue/100" {
		t.Fatalf("A's web Service after rollback: %s, want blue/100", got)
	}
	mg.thenRunsIn("A")
}

func annotations(t *testing.T, c kubernetes.Interface) string {
	t.Helper()
	svc, err := c.CoreV1().Services("shop").Get(context.Background(), "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return svc.Annotations[externaldns.SetIdentifierAnnotation] + "/" + svc.Annotations[externaldns.WeightAnnotation]
}
