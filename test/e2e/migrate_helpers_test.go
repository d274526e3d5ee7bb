package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"

	"github.com/bluegreen/bluegreen/internal/plan"
	"github.com/bluegreen/bluegreen/internal/runstore"
	"github.com/bluegreen/bluegreen/test/migrationbed"
	"github.com/bluegreen/bluegreen/test/testbed"
)

// migration is one cluster-scope scenario: its own two clusters, AWS fake,
// EBS CSI simulators, sample shop, spec file and audit log. Every CLI
// call runs as on a machine of its own (an empty home folder): the run's
// record is in cluster A, with a copy in B.
type migration struct {
	t     *testing.T
	w     *migrationbed.World
	shop  migrationbed.Shop
	spec  string
	m     plan.Migration
	audit string
}

// givenMigration starts the world with n StatefulSets in A and writes the
// spec, shaped by o.
func givenMigration(t *testing.T, n int, world migrationbed.Options, o migrationbed.SpecOptions) *migration {
	t.Helper()
	dir := t.TempDir()
	if world.AttachDelay == 0 {
		world.AttachDelay = 50 * time.Millisecond
	}
	if world.DetachDelay == 0 {
		world.DetachDelay = 50 * time.Millisecond
	}
	if world.EC2DetachDelay == 0 {
		world.EC2DetachDelay = 200 * time.Millisecond
	}
	world.WorkDir = dir
	world.Logger = slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	w, err := migrationbed.Start(ctx, world)
	if err != nil {
		t.Fatalf("start migration world: %v", err)
	}
	t.Cleanup(func() { w.Stop(context.Background()) })
	shop, err := w.InstallShop(ctx, "shop", n)
	if err != nil {
		t.Fatalf("install shop: %v", err)
	}
	mg := &migration{t: t, w: w, shop: shop, spec: filepath.Join(dir, "migration.yaml"), audit: filepath.Join(dir, "audit.jsonl")}
	mg.writeSpec(o)
	return mg
}

func (mg *migration) writeSpec(o migrationbed.SpecOptions) {
	mg.t.Helper()
	mg.m = mg.w.Spec(mg.shop, o)
	if err := migrationbed.WriteSpec(mg.spec, mg.m); err != nil {
		mg.t.Fatal(err)
	}
}

// cli runs `bluegreen migrate VERB -f spec ARGS…`.
func (mg *migration) cli(extraEnv []string, verb string, args ...string) result {
	mg.t.Helper()
	full := append([]string{"migrate", verb, "-f", mg.spec, "--audit-log", mg.audit}, args...)
	cmd := exec.Command(cliBin, full...)
	cmd.Env = append(append(os.Environ(), mg.w.CLIEnv()...), extraEnv...)
	cmd.Env = append(cmd.Env, mg.elsewhere()...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
		if ee.ProcessState != nil && !ee.Exited() {
			code = -1 // killed by a signal
		}
	} else if err != nil {
		mg.t.Fatalf("run bluegreen: %v", err)
	}
	return result{out.String(), errb.String(), code}
}

// elsewhere is the environment of a machine of its own: an empty home
// folder and no state folder.
func (mg *migration) elsewhere() []string {
	return []string{"HOME=" + mg.t.TempDir(), "XDG_STATE_HOME=", "BLUEGREEN_JOURNAL="}
}

// records are the migration's run records in cluster c (A holds them, B a
// copy), newest first.
func (mg *migration) records(c *testbed.Cluster) []unstructured.Unstructured {
	mg.t.Helper()
	dyn, err := dynamic.NewForConfig(c.Config)
	if err != nil {
		mg.t.Fatal(err)
	}
	list, err := dyn.Resource(runstore.GVR).Namespace("default").List(context.Background(),
		metav1.ListOptions{LabelSelector: runstore.LabelScope + "=cluster"})
	if err != nil {
		mg.t.Fatalf("list the run records in %s: %v", c.Name, err)
	}
	items := list.Items
	slices.SortFunc(items, func(a, b unstructured.Unstructured) int { return strings.Compare(b.GetName(), a.GetName()) })
	return items
}

func (mg *migration) mustCLI(verb string, args ...string) result {
	mg.t.Helper()
	r := mg.cli(nil, verb, args...)
	if r.code != 0 {
		mg.t.Fatalf("bluegreen migrate %s %s: %s", verb, strings.Join(args, " "), r)
	}
	return r
}

// weights reads the weighted record sets' weights by set identifier.
func (mg *migration) weights() map[string]int64 {
	mg.t.Helper()
	out, err := route53.NewFromConfig(mg.w.AWS.AWSConfig()).ListResourceRecordSets(context.Background(),
		&route53.ListResourceRecordSetsInput{HostedZoneId: aws.String(mg.w.ZoneID)})
	if err != nil {
		mg.t.Fatal(err)
	}
	got := map[string]int64{}
	for _, rs := range out.ResourceRecordSets {
		if rs.SetIdentifier != nil && strings.TrimSuffix(aws.ToString(rs.Name), ".") == migrationbed.Record {
			got[aws.ToString(rs.SetIdentifier)] = aws.ToInt64(rs.Weight)
		}
	}
	return got
}

// cname reads an internal CNAME's value.
func (mg *migration) cname(name string) string {
	mg.t.Helper()
	out, err := route53.NewFromConfig(mg.w.AWS.AWSConfig()).ListResourceRecordSets(context.Background(),
		&route53.ListResourceRecordSetsInput{HostedZoneId: aws.String(mg.w.InternalID)})
	if err != nil {
		mg.t.Fatal(err)
	}
	for _, rs := range out.ResourceRecordSets {
		if strings.TrimSuffix(aws.ToString(rs.Name), ".") == name && len(rs.ResourceRecords) > 0 {
			return aws.ToString(rs.ResourceRecords[0].Value)
		}
	}
	return ""
}

// thenRunsIn asserts where each StatefulSet runs: Ready with its claim
// bound to its own PV in the cluster named, stopped in the other, and EC2
// showing its volume attached to a node of that cluster.
func (mg *migration) thenRunsIn(where string) {
	mg.t.Helper()
	on, off := mg.w.A, mg.w.B
	if where == "B" {
		on, off = mg.w.B, mg.w.A
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	nodes := map[string]bool{}
	list, err := on.Client.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		mg.t.Fatal(err)
	}
	for _, n := range list.Items {
		nodes[n.Spec.ProviderID[strings.LastIndex(n.Spec.ProviderID, "/")+1:]] = true
	}
	for _, db := range mg.shop.StatefulSets {
		var last string
		err := testbed.WaitFor(ctx, func(ctx context.Context) (bool, error) {
			sts, err := on.Client.AppsV1().StatefulSets(mg.shop.Namespace).Get(ctx, db.Name, metav1.GetOptions{})
			if err != nil {
				last = err.Error()
				return false, nil
			}
			pvc, err := on.Client.CoreV1().PersistentVolumeClaims(mg.shop.Namespace).Get(ctx, db.PVC, metav1.GetOptions{})
			if err != nil {
				last = err.Error()
				return false, nil
			}
			pv, err := on.Client.CoreV1().PersistentVolumes().Get(ctx, db.PV, metav1.GetOptions{})
			if err != nil {
				last = err.Error()
				return false, nil
			}
			inst, _ := mg.w.AttachedTo(ctx, db.VolumeID)
			last = fmt.Sprintf("ready %d, pvc %s→%s, pv %s handle %s, attached to %q", sts.Status.ReadyReplicas, pvc.Status.Phase, pvc.Spec.VolumeName,
				pv.Spec.PersistentVolumeReclaimPolicy, pv.Spec.CSI.VolumeHandle, inst)
			return sts.Status.ReadyReplicas == 1 && pvc.Status.Phase == corev1.ClaimBound && pvc.Spec.VolumeName == db.PV &&
				pv.Spec.CSI.VolumeHandle == db.VolumeID && pv.Spec.PersistentVolumeReclaimPolicy == corev1.PersistentVolumeReclaimRetain &&
				nodes[inst], nil
		})
		if err != nil {
			mg.t.Fatalf("statefulset %s does not run in %s on its volume %s: %s", db.Name, where, db.VolumeID, last)
		}
		if sts, err := off.Client.AppsV1().StatefulSets(mg.shop.Namespace).Get(ctx, db.Name, metav1.GetOptions{}); err == nil && replicas(sts) != 0 {
			mg.t.Fatalf("statefulset %s still has %d replicas in the other cluster", db.Name, replicas(sts))
		}
	}
}

func replicas(s *appsv1.StatefulSet) int32 {
	if s.Spec.Replicas == nil {
		return 1
	}
	return *s.Spec.Replicas
}

// thenNoVolumeDeleted asserts on the AWS side that no volume was deleted.
func (mg *migration) thenNoVolumeDeleted() {
	mg.t.Helper()
	if d := mg.w.AWS.DeletedVolumes(); len(d) != 0 {
		mg.t.Fatalf("volumes deleted: %v", d)
	}
}
