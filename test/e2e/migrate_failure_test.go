package e2e

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	r53types "github.com/aws/aws-sdk-go-v2/service/route53/types"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/bluegreen/bluegreen/internal/check"
	"github.com/bluegreen/bluegreen/test/migrationbed"
)

// A volume whose node never lets go stops the hand-off with a Multi-Attach
// diagnosis naming the instance and node; the run rolls back, the claim
// was never deleted and no volume was.
func TestMigrateStuckVolumeDiagnosesMultiAttach(t *testing.T) {
	// Given a StatefulSet whose volume A's node will not release
	mg := givenMigration(t, 1, migrationbed.Options{}, migrationbed.SpecOptions{NoStandby: true, DetachTimeout: 3 * time.Second})
	db := mg.shop.StatefulSets[0]
	mg.w.SimA.Hold(db.VolumeID, true)

	// When the migration runs
	r := mg.cli(nil, "apply")

	// Then it stops at the detach wait with a diagnosis and rolls back
	if r.code != 4 {
		t.Fatalf("want exit 4 (rolled back), got %s", r)
	}
	for _, want := range []string{"Multi-Attach", db.VolumeID, "instance i-", "node ", "--force-detach", "nothing was deleted"} {
		if !strings.Contains(r.stdout+r.stderr, want) {
			t.Fatalf("diagnosis lacks %q:\n%s", want, r)
		}
	}
	ctx := context.Background()
	if _, err := mg.w.A.Client.CoreV1().PersistentVolumeClaims("shop").Get(ctx, db.PVC, metav1.GetOptions{}); err != nil {
		t.Fatalf("claim %s in A: %v", db.PVC, err)
	}
	mg.thenNoVolumeDeleted()
	mg.w.SimA.Hold(db.VolumeID, false)
	mg.thenRunsIn("A")
	if w := mg.weights(); w["blue"] != 100 || w["green"] != 0 {
		t.Fatalf("weights = %v, want untouched 100/0", w)
	}
}

// With --force-detach, a volume stuck attached at the timeout is
// force-detached (recorded on the AWS side) and the hand-off completes.
func TestMigrateForceDetachesAStuckVolume(t *testing.T) {
	// Given a StatefulSet whose volume A's node will not release
	mg := givenMigration(t, 1, migrationbed.Options{}, migrationbed.SpecOptions{NoStandby: true, Steps: []int{100}, DetachTimeout: 2 * time.Second})
	db := mg.shop.StatefulSets[0]
	mg.w.SimA.Hold(db.VolumeID, true)

	// When the migration runs with --force-detach
	mg.mustCLI("apply", "--force-detach")

	// Then EC2 saw exactly that forced detach and the StatefulSet runs in B
	if got := mg.w.AWS.ForcedDetaches(); len(got) != 1 || got[0] != db.VolumeID {
		t.Fatalf("forced detaches = %v, want [%s]", got, db.VolumeID)
	}
	mg.thenRunsIn("B")
	mg.thenNoVolumeDeleted()
}

// Checks that fail once 30% of traffic reaches B roll the whole migration
// back automatically: weights 100/0 first, then the data back to A.
func TestMigrateFailingChecksAt30RollBack(t *testing.T) {
	// Given a check that fails as soon as green's weight reaches 30
	var mg *migration
	health := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if mg != nil && mg.weightsNoFail()["green"] >= 30 {
			http.Error(w, "error rate 12% on green", http.StatusInternalServerError)
			return
		}
		_, _ = w.Write([]byte("ok"))
	}))
	t.Cleanup(health.Close)
	mg = givenMigration(t, 1, migrationbed.Options{}, migrationbed.SpecOptions{Steps: []int{10, 30, 100},
		Checks: []check.Spec{{Name: "shop-errors", HTTP: &check.HTTPConfig{URL: health.URL, Retries: 2, Interval: check.Duration(10 * time.Millisecond)}}}})

	// When the migration runs
	r := mg.cli(nil, "apply")

	// Then shift-30 fails its check and everything is back on A
	if r.code != 4 || !strings.Contains(r.stdout+r.stderr, "shift-30") || !strings.Contains(r.stdout+r.stderr, "shop-errors") {
		t.Fatalf("want a rollback at shift-30 naming the check, got %s", r)
	}
	if w := mg.weights(); w["blue"] != 100 || w["green"] != 0 {
		t.Fatalf("weights after automatic rollback = %v, want 100/0", w)
	}
	db := mg.shop.StatefulSets[0]
	if got := mg.cname(db.CNAME); got != migrationbed.BlueValue(db) {
		t.Fatalf("cname = %q, want %q", got, migrationbed.BlueValue(db))
	}
	mg.thenRunsIn("A")
	mg.thenNoVolumeDeleted()
}

// weightsNoFail is weights for use off the test goroutine.
func (mg *migration) weightsNoFail() map[string]int64 {
	out, err := route53.NewFromConfig(mg.w.AWS.AWSConfig()).ListResourceRecordSets(context.Background(),
		&route53.ListResourceRecordSetsInput{HostedZoneId: aws.String(mg.w.ZoneID)})
	got := map[string]int64{}
	if err != nil {
		return got
	}
	for _, rs := range out.ResourceRecordSets {
		if rs.SetIdentifier != nil {
			got[aws.ToString(rs.SetIdentifier)] = aws.ToInt64(rs.Weight)
		}
	}
	return got
}

// setWeights changes the weights out of band, as someone in the console.
func (mg *migration) setWeights(blue, green int64) {
	mg.t.Helper()
	var changes []r53types.Change
	for id, wt := range map[string]int64{"blue": blue, "green": green} {
		v := migrationbed.BlueLB
		if id == "green" {
			v = migrationbed.GreenLB
		}
		changes = append(changes, r53types.Change{Action: r53types.ChangeActionUpsert, ResourceRecordSet: &r53types.ResourceRecordSet{
			Name: aws.String(migrationbed.Record), Type: r53types.RRTypeCname, TTL: aws.Int64(60), SetIdentifier: aws.String(id),
			Weight: aws.Int64(wt), ResourceRecords: []r53types.ResourceRecord{{Value: aws.String(v)}}}})
	}
	_, err := route53.NewFromConfig(mg.w.AWS.AWSConfig()).ChangeResourceRecordSets(context.Background(), &route53.ChangeResourceRecordSetsInput{
		HostedZoneId: aws.String(mg.w.ZoneID), ChangeBatch: &r53types.ChangeBatch{Changes: changes}})
	if err != nil {
		mg.t.Fatal(err)
	}
}

// Weights changed out of band between two shifts stop the run with a drift
// report and change nothing; once put back, resume finishes the migration.
func TestMigrateDetectsWeightDrift(t *testing.T) {
	// Given a migration of two StatefulSets (handed off side by side)
	// killed right after its 50% shift
	mg := givenMigration(t, 2, migrationbed.Options{}, migrationbed.SpecOptions{NoStandby: true, Steps: []int{50, 100}, Parallelism: 2})
	if r := mg.cli([]string{"BLUEGREEN_TEST_CRASH_AT=shift-50/done"}, "apply"); r.code != -1 {
		t.Fatalf("want the CLI killed at shift-50/done, got %s", r)
	}
	// When someone sets the weights to 80/20 in the console and the run resumes
	mg.setWeights(80, 20)
	hooks := newWebhookServer(t)
	r := mg.cli(nil, "resume", "--notify-webhook", hooks.URL+"/hook")

	// Then it stops with a drift report and leaves the weights alone
	if r.code == 0 || !strings.Contains(r.stdout+r.stderr, "changed out of band") || !strings.Contains(r.stdout+r.stderr, "blue=80,green=20") {
		t.Fatalf("want a drift report, got %s", r)
	}
	if w := mg.weights(); w["blue"] != 80 || w["green"] != 20 {
		t.Fatalf("weights = %v, want the operator's 80/20 untouched", w)
	}
	st := mg.mustCLI("status", "-o", "json")
	if !strings.Contains(st.stdout, `"state": "paused"`) {
		t.Fatalf("status after drift:\n%s", st.stdout)
	}
	// And the team is told why it paused
	if got := hooks.received(); !strings.Contains(got, "paused") || !strings.Contains(got, "changed out of band") {
		t.Fatalf("want a paused notification with the drift report, got:\n%s", got)
	}

	// When the weights are put back and the run resumes, it completes
	mg.setWeights(50, 50)
	mg.mustCLI("resume")
	if w := mg.weights(); w["green"] != 100 {
		t.Fatalf("weights = %v, want 0/100", w)
	}
	mg.thenRunsIn("B")
}

// Preflight catches a worksheet failure (TTL 300) and the API scan finds
// removed APIs in manifests and in A's objects; apply changes nothing.
func TestMigratePreflightStopsBeforeAnyWrite(t *testing.T) {
	// Given a record with TTL 300, a manifest and a live object on removed APIs
	mg := givenMigration(t, 1, migrationbed.Options{}, migrationbed.SpecOptions{NoStandby: true})
	manifest := filepath.Join(t.TempDir(), "legacy.yaml")
	if err := os.WriteFile(manifest, []byte(legacyManifest), 0o600); err != nil {
		t.Fatal(err)
	}
	mg.writeSpec(migrationbed.SpecOptions{NoStandby: true, Manifests: []string{manifest}})
	mg.setTTL(300)
	ctx := context.Background()
	// A merge patch: the Deployment controller writes web's status meanwhile.
	patch := []byte(`{"metadata":{"annotations":{"kubectl.kubernetes.io/last-applied-configuration":` +
		`"{\"apiVersion\":\"extensions/v1beta1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":\"web\",\"namespace\":\"shop\"}}"}}}`)
	if _, err := mg.w.A.Client.AppsV1().Deployments("shop").Patch(ctx, "web", types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	before := mg.snapshotA()

	// When preflight and apply run
	pf := mg.cli(nil, "preflight")
	ap := mg.cli(nil, "apply")

	// Then both name the failures and nothing changed anywhere
	for _, r := range []result{pf, ap} {
		if r.code != 1 {
			t.Fatalf("want exit 1, got %s", r)
		}
		for _, want := range []string{"record-ttl", "TTL 300", "removed-apis", "legacy.yaml#0: Deployment", "extensions/v1beta1", "live: Deployment shop/web"} {
			if !strings.Contains(r.stdout+r.stderr, want) {
				t.Fatalf("preflight output lacks %q:\n%s", want, r)
			}
		}
	}
	if after := mg.snapshotA(); after != before {
		t.Fatalf("apply changed A after a failed preflight:\nbefore %s\nafter  %s", before, after)
	}
	if w := mg.weights(); w["blue"] != 100 {
		t.Fatalf("weights changed: %v", w)
	}
}

const legacyManifest = `apiVersion: extensions/v1beta1
kind: Deployment
metadata:
  name: web
  namespace: shop
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  namespace: shop
`

// setTTL sets both weighted record sets' TTL.
func (mg *migration) setTTL(ttl int64) {
	mg.t.Helper()
	var changes []r53types.Change
	for id, v := range map[string]string{"blue": migrationbed.BlueLB, "green": migrationbed.GreenLB} {
		wt := int64(100)
		if id == "green" {
			wt = 0
		}
		changes = append(changes, r53types.Change{Action: r53types.ChangeActionUpsert, ResourceRecordSet: &r53types.ResourceRecordSet{
			Name: aws.String(migrationbed.Record), Type: r53types.RRTypeCname, TTL: aws.Int64(ttl), SetIdentifier: aws.String(id),
			Weight: aws.Int64(wt), ResourceRecords: []r53types.ResourceRecord{{Value: aws.String(v)}}}})
	}
	_, err := route53.NewFromConfig(mg.w.AWS.AWSConfig()).ChangeResourceRecordSets(context.Background(), &route53.ChangeResourceRecordSetsInput{
		HostedZoneId: aws.String(mg.w.ZoneID), ChangeBatch: &r53types.ChangeBatch{Changes: changes}})
	if err != nil {
		mg.t.Fatal(err)
	}
}

// snapshotA renders the resourceVersions of what a migration would touch in A.
func (mg *migration) snapshotA() string {
	mg.t.Helper()
	ctx := context.Background()
	var b strings.Builder
	for _, db := range mg.shop.StatefulSets {
		sts, err1 := mg.w.A.Client.AppsV1().StatefulSets("shop").Get(ctx, db.Name, metav1.GetOptions{})
		pvc, err2 := mg.w.A.Client.CoreV1().PersistentVolumeClaims("shop").Get(ctx, db.PVC, metav1.GetOptions{})
		pv, err3 := mg.w.A.Client.CoreV1().PersistentVolumes().Get(ctx, db.PV, metav1.GetOptions{})
		if err1 != nil || err2 != nil || err3 != nil {
			mg.t.Fatalf("snapshot: %v %v %v", err1, err2, err3)
		}
		b.WriteString(db.Name + ":" + sts.ResourceVersion + "/" + pvc.ResourceVersion + "/" + pv.ResourceVersion + " " + string(pv.Spec.PersistentVolumeReclaimPolicy) + ";")
	}
	return b.String()
}
