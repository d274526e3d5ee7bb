package e2e

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/bluegreen/bluegreen/test/migrationbed"
	"github.com/bluegreen/bluegreen/test/testbed"
)

// Every migrate verb works as a ServiceAccount in each cluster bound to
// nothing but the shipped cluster-scope role of that cluster.
func TestMigrateUnderTheShippedRoles(t *testing.T) {
	// Given a migration whose spec reaches A and B only as ServiceAccounts
	mg := givenMigration(t, 1, migrationbed.Options{}, migrationbed.SpecOptions{Steps: []int{50, 100}})
	mg.asServiceAccounts()

	// When every verb runs
	mg.mustCLI("plan")
	mg.mustCLI("preflight")
	if r := mg.mustCLI("apply", "--approve-each-step"); !strings.Contains(r.stdout, "migrate promote -f") {
		t.Fatalf("apply --approve-each-step: want a pause at the first gate, got %s", r)
	}
	mg.mustCLI("status")
	mg.mustCLI("resume")
	mg.mustCLI("promote")

	// Then it completes, as with full rights
	mg.thenWeights(0, 100, "after promote")
	mg.thenRunsIn("B")
	mg.thenRecorded("succeeded")

	// And rollback, a second apply aborted at its gate, and unlock work too
	mg.mustCLI("rollback")
	mg.thenRunsIn("A")
	mg.mustCLI("apply", "--approve-each-step")
	mg.mustCLI("abort")
	mg.thenWeights(100, 0, "after abort")
	mg.thenRunsIn("A")
	mg.thenRecorded("aborted")
	mg.mustCLI("unlock")
	mg.thenNoVolumeDeleted()

	// And a third apply keeps only the newest finished run, in A and in B
	mg.mustCLI("apply", "--run-history", "1")
	mg.thenRunsIn("B")
	if inA, inB := mg.records(mg.w.A), mg.records(mg.w.B); len(inA) != 1 || len(inB) != 1 {
		t.Fatalf("after apply --run-history 1: %d records in A, %d in B; want the newest alone in each", len(inA), len(inB))
	}
	mg.thenRecorded("succeeded")
}

// thenWeights checks the live weights of blue (A) and green (B).
func (mg *migration) thenWeights(blue, green int64, when string) {
	mg.t.Helper()
	if w := mg.weights(); w["blue"] != blue || w["green"] != green {
		mg.t.Fatalf("weights %s = %v, want blue %d green %d", when, w, blue, green)
	}
}

// asServiceAccounts applies the shipped roles to A and B, creates a
// ServiceAccount in each bound to its cluster's role alone, and points the
// spec at a kubeconfig holding nothing but their tokens.
func (mg *migration) asServiceAccounts() {
	mg.t.Helper()
	clusters := map[string]*testbed.Cluster{"source": mg.w.A, "target": mg.w.B}
	roles := map[string]string{"source": "bluegreen-migrate-source", "target": "bluegreen-migrate-target"}
	tokens := map[string]string{}
	for name, c := range clusters {
		applyRBAC(mg.t, c, "rbac/cluster-scope.yaml")
		ctx := context.Background()
		if _, err := c.Client.CoreV1().ServiceAccounts("default").Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "migrator"}}, metav1.CreateOptions{}); err != nil {
			mg.t.Fatal(err)
		}
		if _, err := c.Client.RbacV1().ClusterRoleBindings().Create(ctx, &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "migrator"},
			RoleRef:  rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: roles[name]},
			Subjects: []rbacv1.Subject{{Kind: "ServiceAccount", Name: "migrator", Namespace: "default"}}}, metav1.CreateOptions{}); err != nil {
			mg.t.Fatal(err)
		}
		tokens[name] = token(mg.t, c, "default", "migrator")
	}
	kc := filepath.Join(mg.t.TempDir(), "kubeconfig")
	writeTokenKubeconfig(mg.t, kc, clusters, tokens, "default")
	mg.m.Source.Kubeconfig, mg.m.Source.Context = kc, "source"
	mg.m.Target.Kubeconfig, mg.m.Target.Context = kc, "target"
	if err := migrationbed.WriteSpec(mg.spec, mg.m); err != nil {
		mg.t.Fatal(err)
	}
}
