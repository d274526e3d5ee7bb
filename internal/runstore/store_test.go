//go:build testbed

package runstore_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"

	"github.com/bluegreen/bluegreen/internal/clock"
	"github.com/bluegreen/bluegreen/internal/journal"
	"github.com/bluegreen/bluegreen/internal/kube"
	"github.com/bluegreen/bluegreen/internal/runstore"
	"github.com/bluegreen/bluegreen/test/testbed"
)

// bed is one API server with the CRD installed and a namespace per test.
type bed struct {
	dyn       dynamic.Interface
	ns        string
	clusterID string
	cluster   *testbed.Cluster
}

func newBed(t *testing.T) *bed {
	t.Helper()
	c := testbed.StartT(t, testbed.Options{Name: "runstore"})
	dyn, err := dynamic.NewForConfig(c.Config)
	if err != nil {
		t.Fatal(err)
	}
	if err := runstore.EnsureCRD(t.Context(), clock.Real{}, dyn); err != nil {
		t.Fatalf("EnsureCRD: %v", err)
	}
	id, err := kube.ClusterID(t.Context(), c.Client)
	if err != nil {
		t.Fatal(err)
	}
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "runs-"}}
	ns, err = c.Client.CoreV1().Namespaces().Create(t.Context(), ns, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return &bed{dyn: dyn, ns: ns.Name, clusterID: id, cluster: c}
}

// store is what a fresh process on another machine would open.
func (b *bed) store() *runstore.Store {
	return runstore.New(b.dyn, b.ns, b.clusterID)
}

func newRun(id, app string) *journal.Run {
	now := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	return &journal.Run{ID: id, Scope: journal.ScopeService, Operation: "deploy", Namespace: "prod", App: app, Actor: "ana@laptop",
		State: journal.Running, CreatedAt: now, UpdatedAt: now,
		Steps: []journal.Step{
			{Name: "set-image", Kind: "set-image", State: journal.Done, Before: json.RawMessage(`{"image":"shop:1"}`)},
			{Name: "switch", Kind: "switch", State: journal.Started, Before: json.RawMessage(`{"selector":{"track":"blue"}}`)},
			{Name: "scale-down-old", Kind: "scale", State: journal.Pending},
		}}
}

// A run saved by one process is read whole, before-states included, by
// another that never saw it; kubectl's columns show where it stands.
func TestARunSavedHereIsReadElsewhere(t *testing.T) {
	b := newBed(t)
	r := newRun("20261203-100000.000-aaaaaa", "shop")
	if err := b.store().Save(t.Context(), r); err != nil {
		t.Fatalf("Save: %v", err)
	}
	got, err := b.store().Get(t.Context(), r.ID)
	if err != nil {
		t.Fatalf("Get from another store: %v", err)
	}
	if got.App != "shop" || got.State != journal.Running || len(got.Steps) != 3 || string(got.Steps[1].Before) != `{"selector":{"track":"blue"}}` {
		t.Fatalf("read back %+v", got)
	}
	u, err := b.dyn.Resource(runstore.GVR).Namespace(b.ns).Get(t.Context(), r.ID, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if st := u.Object["status"].(map[string]any); st["state"] != "running" || st["step"] != "switch" {
		t.Fatalf("status columns = %v, want state running at step switch", st)
	}
	if u.GetLabels()[runstore.LabelCluster] != b.clusterID {
		t.Fatalf("labels %v lack the cluster's identity %s", u.GetLabels(), b.clusterID)
	}
}

// Two processes that read the same run cannot both write it: the second
// write fails, naming the run, instead of overwriting the first.
func TestAStaleWriterIsRefused(t *testing.T) {
	b := newBed(t)
	r := newRun("20261203-100000.000-bbbbbb", "shop")
	first := b.store()
	if err := first.Save(t.Context(), r); err != nil {
		t.Fatal(err)
	}
	second := b.store()
	theirs, err := second.Get(t.Context(), r.ID)
	if err != nil {
		t.Fatal(err)
	}
	theirs.State = journal.RollingBack
	if err := second.Save(t.Context(), theirs); err != nil {
		t.Fatalf("second writer, having read the latest: %v", err)
	}
	r.State = journal.Succeeded
	err = first.Save(t.Context(), r)
	if !errors.Is(err, runstore.ErrConflict) || !strings.Contains(err.Error(), r.ID) {
		t.Fatalf("stale Save = %v, want ErrConflict naming %s", err, r.ID)
	}
	if got, _ := b.store().Get(t.Context(), r.ID); got.State != journal.RollingBack {
		t.Fatalf("the stale write overwrote the record: state %s", got.State)
	}
	// A process that never read the run cannot create it over the existing one.
	if err := b.store().Save(t.Context(), r); !errors.Is(err, runstore.ErrConflict) {
		t.Fatalf("blind Save over an existing run = %v, want ErrConflict", err)
	}
}

// List returns the runs of one app in this cluster, newest first; a record
// that does not decode is reported, not hidden, and does not hide the rest.
func TestListFiltersAndReportsBadRecords(t *testing.T) {
	b := newBed(t)
	s := b.store()
	for _, r := range []*journal.Run{newRun("20261203-100000.000-000001", "shop"), newRun("20261203-110000.000-000002", "shop"),
		newRun("20261203-120000.000-000003", "cart")} {
		if err := s.Save(t.Context(), r); err != nil {
			t.Fatal(err)
		}
	}
	// A run of the same app recorded by another cluster's identity.
	if err := runstore.New(b.dyn, b.ns, "another-cluster").Save(t.Context(), newRun("20261203-130000.000-000004", "shop")); err != nil {
		t.Fatal(err)
	}
	// A damaged record: its steps are not a list.
	patch := []byte(`{"status":{"record":{"id":"20261203-100000.000-000001","steps":"broken"}}}`)
	if _, err := b.dyn.Resource(runstore.GVR).Namespace(b.ns).Patch(t.Context(), "20261203-100000.000-000001", types.MergePatchType, patch, metav1.PatchOptions{}, "status"); err != nil {
		t.Fatal(err)
	}
	runs, err := b.store().List(t.Context(), journal.Filter{Scope: journal.ScopeService, App: "shop"})
	var bad *journal.BadRecordsError
	if !errors.As(err, &bad) || len(bad.Records) != 1 || bad.Records[0].ID != "20261203-100000.000-000001" {
		t.Fatalf("List error = %v, want the damaged record reported", err)
	}
	if len(runs) != 1 || runs[0].ID != "20261203-110000.000-000002" {
		t.Fatalf("List = %v, want only the readable shop run of this cluster", ids(runs))
	}
	all, err := runstore.New(b.dyn, b.ns, b.clusterID).List(context.WithoutCancel(t.Context()), journal.Filter{Limit: 1, App: "cart"})
	if err != nil || len(all) != 1 || all[0].App != "cart" {
		t.Fatalf("List cart = %v, %v", ids(all), err)
	}
	// Read by name, the other cluster's run is not this cluster's either;
	// its own store reads it.
	if r, err := b.store().Get(t.Context(), "20261203-130000.000-000004"); !errors.Is(err, journal.ErrNotFound) {
		t.Fatalf("Get of another cluster's run = %v, %v; want journal.ErrNotFound", r, err)
	}
	if _, err := runstore.New(b.dyn, b.ns, "another-cluster").Get(t.Context(), "20261203-130000.000-000004"); err != nil {
		t.Fatalf("Get by its own cluster: %v", err)
	}
}

// A run's spec never changes: the API server refuses an edit.
func TestARunsSpecIsImmutable(t *testing.T) {
	b := newBed(t)
	r := newRun("20261203-100000.000-cccccc", "shop")
	if err := b.store().Save(t.Context(), r); err != nil {
		t.Fatal(err)
	}
	patch := []byte(`{"spec":{"app":"cart"}}`)
	_, err := b.dyn.Resource(runstore.GVR).Namespace(b.ns).Patch(t.Context(), r.ID, types.MergePatchType, patch, metav1.PatchOptions{})
	if err == nil || !strings.Contains(err.Error(), "never changes") {
		t.Fatalf("editing the spec = %v, want it refused", err)
	}
}

// The identity of a cluster is the same through any client, and it is what
// the records are labelled with.
func TestClusterIDIsStable(t *testing.T) {
	b := newBed(t)
	again, err := kube.ClusterID(t.Context(), b.cluster.Client)
	if err != nil || again != b.clusterID || len(again) < 30 {
		t.Fatalf("ClusterID = %q, %v; want %q again", again, err, b.clusterID)
	}
}

func ids(runs []*journal.Run) []string {
	var out []string
	for _, r := range runs {
		out = append(out, r.ID)
	}
	return out
}

// A run whose spec and before-states hold secrets: no secret value is in
// its BlueGreenRun (the whole object, JSON-encoded); they are in a Secret
// the run owns, and a fresh process reads the run back whole.
func TestSecretsStayOutOfTheRecord(t *testing.T) {
	b := newBed(t)
	r := newRun("20261203-100000.000-dddddd", "shop")
	r.Spec = json.RawMessage(`{"image":"shop:2","env":{"DB_PASSWORD":"pw-db-4242","DSN":"postgres://u:dsnpass@db/shop"},
		"previewURL":"https://admin:hunter2@shop-preview/?access_token=pvtok-9",
		"checks":[{"name":"hook","webhook":{"url":"https://hooks.example.com/whsec-55","headers":{"Authorization":"Bearer bear-777"}}}]}`)
	r.Steps[0].Before = json.RawMessage(`{"image":"shop:1","env":[{"name":"OLD_TOKEN","value":"old-tok-31"}]}`)
	r.Steps[0].Error = "rollout failed with DB_PASSWORD=pw-db-4242"
	if err := b.store().Save(t.Context(), r); err != nil {
		t.Fatal(err)
	}
	// A second write with nothing new keeps the same Secret.
	r.State = journal.Succeeded
	if err := b.store().Save(t.Context(), r); !errors.Is(err, runstore.ErrConflict) {
		t.Fatalf("save from a store that never read it = %v, want ErrConflict", err)
	}
	s := b.store()
	if _, err := s.Get(t.Context(), r.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.Save(t.Context(), r); err != nil {
		t.Fatal(err)
	}

	u, err := b.dyn.Resource(runstore.GVR).Namespace(b.ns).Get(t.Context(), r.ID, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	obj, _ := json.Marshal(u.Object)
	for _, secret := range []string{"pw-db-4242", "dsnpass", "hunter2", "pvtok-9", "whsec-55", "bear-777", "old-tok-31"} {
		if strings.Contains(string(obj), secret) {
			t.Errorf("the BlueGreenRun holds %q", secret)
		}
	}
	sec, err := b.cluster.Client.CoreV1().Secrets(b.ns).Get(t.Context(), "bluegreen-run-"+r.ID, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("the run's Secret: %v", err)
	}
	if refs := sec.OwnerReferences; len(refs) != 1 || refs[0].UID != u.GetUID() {
		t.Fatalf("Secret owners %v, want the run %s", refs, u.GetUID())
	}

	got, err := b.store().Get(t.Context(), r.ID)
	if err != nil {
		t.Fatal(err)
	}
	var spec map[string]any
	_ = json.Unmarshal(got.Spec, &spec)
	if spec["env"].(map[string]any)["DB_PASSWORD"] != "pw-db-4242" || !strings.Contains(string(got.Steps[0].Before), "old-tok-31") {
		t.Fatalf("read back without its values: spec %s, before %s", got.Spec, got.Steps[0].Before)
	}
	if got.State != journal.Succeeded || strings.Contains(got.Steps[0].Error, "pw-db-4242") {
		t.Fatalf("state %s, error %q: want succeeded, the password masked", got.State, got.Steps[0].Error)
	}

	// A sealed store (a view) reads the record without the Secret: a
	// client with no right to read Secrets gets references, not values.
	if err := b.cluster.Client.CoreV1().Secrets(b.ns).Delete(t.Context(), "bluegreen-run-"+r.ID, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.store().Get(t.Context(), r.ID); err == nil {
		t.Fatal("an unsealed read without the run's Secret succeeded; want it to name the missing Secret")
	}
	view, err := b.store().Sealed().Get(t.Context(), r.ID)
	if err != nil {
		t.Fatalf("sealed read: %v", err)
	}
	all, _ := json.Marshal(view)
	for _, secret := range []string{"pw-db-4242", "dsnpass", "hunter2", "pvtok-9", "whsec-55", "bear-777", "old-tok-31"} {
		if strings.Contains(string(all), secret) {
			t.Errorf("a sealed read shows %q", secret)
		}
	}
	if view.State != journal.Succeeded || view.Steps[0].Name != "set-image" {
		t.Fatalf("sealed read: state %s, steps %v; want the record as stored", view.State, view.Steps)
	}
}

// Pruning keeps the newest finished runs of an app and every unfinished
// one, whatever its age, and leaves other apps alone.
func TestPruneKeepsTheNewestAndTheUnfinished(t *testing.T) {
	b := newBed(t)
	s := b.store()
	for i, st := range []journal.RunState{journal.Succeeded, journal.Paused, journal.RolledBack, journal.Succeeded, journal.Failed} {
		r := newRun(fmt.Sprintf("20261203-10000%d.000-aaaaaa", i), "shop")
		r.State = st
		if err := s.Save(t.Context(), r); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Save(t.Context(), newRun("20261203-090000.000-bbbbbb", "cart")); err != nil {
		t.Fatal(err)
	}
	n, err := b.store().Prune(t.Context(), "shop", 2)
	if err != nil || n != 2 {
		t.Fatalf("Prune = %d, %v; want 2 deleted", n, err)
	}
	left, err := b.store().List(t.Context(), journal.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	want := "20261203-100004.000-aaaaaa 20261203-100003.000-aaaaaa 20261203-100001.000-aaaaaa 20261203-090000.000-bbbbbb"
	if got := strings.Join(ids(left), " "); got != want {
		t.Fatalf("left %s, want %s", got, want)
	}
}

// A mirrored store writes the record, then a copy that follows it: a copy
// an earlier process left behind is overwritten, not a conflict, and a
// copy that cannot be written never fails the write nor is tried again.
func TestMirrorFollowsAndNeverStopsARun(t *testing.T) {
	b := newBed(t)
	other := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "copies-"}}
	other, err := b.cluster.Client.CoreV1().Namespaces().Create(t.Context(), other, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	mirrored := func() *runstore.Mirrored {
		return runstore.NewMirrored(b.store(), runstore.New(b.dyn, other.Name, b.clusterID), slog.New(slog.DiscardHandler))
	}
	copyOf := func(id string) *journal.Run {
		t.Helper()
		got, err := runstore.New(b.dyn, other.Name, b.clusterID).Get(t.Context(), id)
		if err != nil {
			t.Fatalf("the copy: %v", err)
		}
		return got
	}

	// A stale copy exists (an earlier process wrote it, then died).
	r := newRun("20261203-100000.000-mmmmmm", "shop")
	stale := *r
	stale.State = journal.Paused
	if err := runstore.New(b.dyn, other.Name, b.clusterID).Save(t.Context(), &stale); err != nil {
		t.Fatal(err)
	}
	if err := mirrored().Save(t.Context(), r); err != nil {
		t.Fatalf("Save: %v", err)
	}
	if got := copyOf(r.ID); got.State != journal.Running {
		t.Fatalf("the copy is %s, want it to follow the record (running)", got.State)
	}
	// Another process reads the run, writes it on; the copy follows.
	m := mirrored()
	theirs, err := m.Get(t.Context(), r.ID)
	if err != nil {
		t.Fatal(err)
	}
	theirs.State = journal.Succeeded
	if err := m.Save(t.Context(), theirs); err != nil {
		t.Fatalf("Save by a second process: %v", err)
	}
	if got := copyOf(r.ID); got.State != journal.Succeeded {
		t.Fatalf("the copy is %s after the second process, want succeeded", got.State)
	}

	// The other cluster is unreachable: the record is saved, the copy is
	// tried once and then left behind.
	var calls atomic.Int32
	dead := &rest.Config{Host: "https://127.0.0.1:1", TLSClientConfig: rest.TLSClientConfig{Insecure: true}}
	dead.Wrap(func(rt http.RoundTripper) http.RoundTripper {
		return roundTripFunc(func(req *http.Request) (*http.Response, error) {
			calls.Add(1)
			return rt.RoundTrip(req)
		})
	})
	deadDyn, err := dynamic.NewForConfig(dead)
	if err != nil {
		t.Fatal(err)
	}
	m = runstore.NewMirrored(b.store(), runstore.New(deadDyn, "default", b.clusterID), slog.New(slog.DiscardHandler))
	r2 := newRun("20261203-100000.000-nnnnnn", "shop")
	if err := m.Save(t.Context(), r2); err != nil {
		t.Fatalf("Save with the copy's cluster unreachable: %v", err)
	}
	tried := calls.Load()
	r2.State = journal.Succeeded
	if err := m.Save(t.Context(), r2); err != nil {
		t.Fatal(err)
	}
	if tried == 0 || calls.Load() != tried {
		t.Fatalf("calls to the unreachable cluster: %d on the first write, %d after the second; want some, then none", tried, calls.Load())
	}
	if got, err := b.store().Get(t.Context(), r2.ID); err != nil || got.State != journal.Succeeded {
		t.Fatalf("the record itself: %v, %v", got, err)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
