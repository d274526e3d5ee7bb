//go:build testbed

package run_test

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/bluegreen/bluegreen/internal/journal"
	"github.com/bluegreen/bluegreen/internal/kube"
	"github.com/bluegreen/bluegreen/internal/run"
	"github.com/bluegreen/bluegreen/test/testbed"
)

// countingStore counts the lists a store serves; reading run unreadable
// fails as a record killed before its first write does.
type countingStore struct {
	journal.Store
	lists      atomic.Int32
	unreadable string
}

func (s *countingStore) Get(ctx context.Context, id string) (*journal.Run, error) {
	if id == s.unreadable {
		return nil, errors.New("run " + id + " has no record yet")
	}
	return s.Store.Get(ctx, id)
}

func (s *countingStore) List(ctx context.Context, f journal.Filter) ([]*journal.Run, error) {
	s.lists.Add(1)
	return s.Store.List(ctx, f)
}

// Newest reads the run the app's Lease names, without listing the app's
// runs; when the Lease cannot say for sure, it lists them.
func TestNewestFollowsTheLease(t *testing.T) {
	c := testbed.StartT(t, testbed.Options{Name: "run-newest"})
	bolt, err := journal.OpenBolt(filepath.Join(t.TempDir(), "journal.db"))
	if err != nil {
		t.Fatal(err)
	}
	st := &countingStore{Store: bolt}
	t0 := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	leases := c.Client.CoordinationV1().Leases("default")
	log := slog.New(slog.DiscardHandler)

	tests := []struct {
		name string
		// lease sets the app's Lease up, given the older and the newer run.
		lease    func(t *testing.T, k run.Key, older, newer string)
		wantList bool
	}{
		{name: "no lease", lease: func(*testing.T, run.Key, string, string) {}, wantList: true},
		{name: "released by the newest run", lease: func(t *testing.T, k run.Key, _, newer string) {
			hold(t, c, k, newer)
		}},
		{name: "taken since by a bluegreen that leaves no note", lease: func(t *testing.T, k run.Key, older, newer string) {
			hold(t, c, k, older)
			cur, err := leases.Get(t.Context(), k.LeaseName(), metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			later := metav1.NewMicroTime(cur.Spec.AcquireTime.Add(time.Second))
			cur.Spec.AcquireTime, cur.Spec.HolderIdentity = &later, ptr.To("")
			if _, err := leases.Update(t.Context(), cur, metav1.UpdateOptions{}); err != nil {
				t.Fatal(err)
			}
		}, wantList: true},
		{name: "names a run that is gone", lease: func(t *testing.T, k run.Key, _, _ string) {
			hold(t, c, k, journal.NewID(t0.Add(time.Hour)))
		}, wantList: true},
		{name: "names a run that cannot be read", lease: func(t *testing.T, k run.Key, _, _ string) {
			st.unreadable = journal.NewID(t0.Add(2 * time.Hour))
			hold(t, c, k, st.unreadable)
		}, wantList: true},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := t.Context()
			k := run.ServiceKey("default", "app"+string(rune('a'+i)))
			var ids []string
			for j := range 2 {
				r := &journal.Run{ID: journal.NewID(t0.Add(time.Duration(10*i+j) * time.Minute)), Scope: journal.ScopeService,
					Namespace: k.Namespace, App: k.App, State: journal.Succeeded, CreatedAt: t0, UpdatedAt: t0}
				if err := st.Save(ctx, r); err != nil {
					t.Fatal(err)
				}
				ids = append(ids, r.ID)
			}
			tc.lease(t, k, ids[0], ids[1])
			st.lists.Store(0)
			got, err := run.Newest(ctx, st, c.Client, log, k, k.Filter(""))
			if err != nil {
				t.Fatal(err)
			}
			if got == nil || got.ID != ids[1] {
				t.Fatalf("Newest = %v, want run %s", got, ids[1])
			}
			if listed := st.lists.Load() > 0; listed != tc.wantList {
				t.Fatalf("listed the runs: %t, want %t", listed, tc.wantList)
			}
		})
	}
}

// hold takes k's Lease for run id and releases it, as a run does.
func hold(t *testing.T, c *testbed.Cluster, k run.Key, id string) {
	t.Helper()
	l, err := kube.Acquire(t.Context(), c.Client, kube.LeaseOptions{Namespace: k.Namespace, Name: k.LeaseName(), Holder: kube.Self(id)})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Release(t.Context()); err != nil {
		t.Fatal(err)
	}
}
