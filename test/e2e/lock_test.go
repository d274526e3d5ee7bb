package e2e

import (
	"context"
	"encoding/json"
	"maps"
	"os"
	"strings"
	"testing"
	"time"

	coordv1 "k8s.io/api/coordination/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

// appWrites is the snapshot of what a run could write, without the Lease
// (breaking the lock writes it on purpose).
func (e *env) appWrites() map[string]string {
	s := e.snapshot()
	for k := range s {
		if strings.HasPrefix(k, "lease/") {
			delete(s, k)
		}
	}
	return s
}

// Two runs on one app from two machines (two journal folders): the first
// one's Lease is broken by force mid-step and a second run takes over. The
// first stops, long before its smoke test would end, and nothing it does after that
// reaches the cluster; it is journaled as failed, so `resume` cannot replay
// its overtaken plan; the second run's release stands.
func TestLostLeaseStopsTheRun(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.givenBlueGreenApp("shop", v1, 2)
	const leaseDuration = 6 * time.Second // renewed every second
	renewEvery := leaseDuration / 6
	// Given a release busy in a long smoke test on machine 1
	first := make(chan result, 1)
	go func() {
		first <- e.cli(nil, "deploy", "shop", "--image", v2, "--yes", "--smoke-cmd", "sleep 600", "--lease-duration", leaseDuration.String())
	}()
	e.eventually("the first release runs its smoke test", func() bool {
		return e.state("shop").GreenImage == v2 && e.auditHas("step-started check-preview")
	})
	before := e.appWrites()
	// When a teammate on machine 2 breaks the lock
	other := e.machine("teammate")
	broken := time.Now()
	if r := other.cli("unlock", "shop", "--yes"); r.code != 0 || !strings.Contains(r.stdout, "was held by") {
		t.Fatalf("unlock: %s", r)
	}
	// Then the first run stops with the loss, having changed nothing since
	var got result
	select {
	case got = <-first:
	case <-time.After(5 * time.Minute):
		t.Fatal("the first run kept running its 10-minute smoke test after losing its lease")
	}
	if got.code != 3 || !strings.Contains(got.stderr, "lost the lease") || !strings.Contains(got.stderr, "unlocked by") {
		t.Fatalf("first deploy after losing its lease: want exit 3 saying so, got %s", got)
	}
	if after := e.appWrites(); !maps.Equal(before, after) {
		t.Fatalf("the first run wrote after losing its lease:\nbefore %v\nafter  %v", before, after)
	}
	// (how long it took, on this machine's clock, is logged for the record)
	stopped := e.lastRunUpdate().Sub(broken)
	t.Logf("the first run stopped %s after the lock was broken (renew interval %s)", stopped, renewEvery)
	// And it is journaled as failed: resume refuses to replay it
	if s := e.status("shop"); s.Runs[0].State != "failed" || !strings.Contains(s.Runs[0].Reason, "lost the lease") {
		t.Fatalf("first run journaled as %s (%s), want failed after losing its lease", s.Runs[0].State, s.Runs[0].Reason)
	}
	if r := e.cli(nil, "resume", "shop"); r.code != 2 {
		t.Fatalf("resume of the overtaken run: want exit 2, got %s", r)
	}
	// And the second run, from machine 2, releases v3 undisturbed
	if r := other.cli("deploy", "shop", "--image", v3, "--yes"); r.code != 0 {
		t.Fatalf("second deploy: %s", r)
	}
	if s := e.state("shop"); s.GreenImage != v3 || s.ActiveSelects != "green" {
		t.Fatalf("after the second run: %+v, want green on %s serving", s, v3)
	}
}

// A run whose Lease cannot be taken is never journaled as running: a later
// `resume` has nothing to replay, and the cluster is untouched.
func TestLockedRunLeavesNothingToResume(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.givenBlueGreenApp("shop", v1, 2)
	before := e.state("shop")
	// Given a live run on another machine holding the app's Lease
	now := metav1.NewMicroTime(time.Now())
	lease := &coordv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: "bluegreen-shop", Namespace: e.ns}, Spec: coordv1.LeaseSpec{
		HolderIdentity: ptr.To("teammate@laptop pid=4242 run=elsewhere"), LeaseDurationSeconds: ptr.To(int32(30)), RenewTime: &now}}
	if _, err := e.kube.CoordinationV1().Leases(e.ns).Create(context.Background(), lease, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// When a release is started here
	if r := e.cli(nil, "deploy", "shop", "--image", v2, "--yes"); r.code != 3 || !strings.Contains(r.stderr, "teammate@laptop") {
		t.Fatalf("deploy against a held lease: want exit 3 naming the holder, got %s", r)
	}
	// Then, once the other run is gone, resume finds nothing to continue
	if err := e.kube.CoordinationV1().Leases(e.ns).Delete(context.Background(), "bluegreen-shop", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if r := e.cli(nil, "resume", "shop"); r.code != 2 || !strings.Contains(r.stderr, "no run of") {
		t.Fatalf("resume after a refused run: want exit 2 (no run), got %s", r)
	}
	if s := e.state("shop"); s != before {
		t.Fatalf("cluster after a refused run: %+v, want %+v", s, before)
	}
}

// auditHas reports whether the scenario's audit log has a record whose
// action starts with prefix.
func (e *env) auditHas(prefix string) bool {
	data, err := os.ReadFile(e.audit)
	if err != nil {
		return false
	}
	for line := range strings.Lines(string(data)) {
		var rec struct{ Action string }
		if json.Unmarshal([]byte(line), &rec) == nil && strings.HasPrefix(rec.Action, prefix) {
			return true
		}
	}
	return false
}

// lastRunUpdate is when the newest run of shop was last written, from
// `status -o json`.
func (e *env) lastRunUpdate() time.Time {
	e.t.Helper()
	r := e.mustCLI("status", "shop", "-o", "json")
	var s struct {
		Runs []struct {
			UpdatedAt time.Time `json:"updatedAt"`
		} `json:"runs"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &s); err != nil || len(s.Runs) == 0 {
		e.t.Fatalf("status -o json: %v\n%s", err, r.stdout)
	}
	return s.Runs[0].UpdatedAt
}
