//go:build testbed

package kube_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	coordv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"

	"github.com/bluegreen/bluegreen/internal/clock"
	"github.com/bluegreen/bluegreen/internal/kube"
	"github.com/bluegreen/bluegreen/test/testbed"
)

// leaseBed is one API server shared by the lease tests, each on a lease of
// its own.
func leaseBed(t *testing.T) *testbed.Cluster {
	t.Helper()
	return testbed.StartT(t, testbed.Options{Name: "kube-lease"})
}

func holder(run string) kube.Holder { return kube.Self(run) }

// waitClosed reports whether ch closes within d.
func waitClosed(ch <-chan struct{}, d time.Duration) bool {
	select {
	case <-ch:
		return true
	case <-time.After(d):
		return false
	}
}

func TestLease(t *testing.T) {
	c := leaseBed(t)
	ctx := t.Context()
	const dur = 3 * time.Second // renewed every 500 ms

	// A holder whose lease is broken by force stops at its next renewal:
	// Lost closes, OnLost ran first, and a fenced client of the run sends
	// nothing more (the object it tries to create never exists).
	t.Run("taken over", func(t *testing.T) {
		fence := &kube.Fence{}
		var onLost atomic.Value
		l, err := kube.Acquire(ctx, c.Client, kube.LeaseOptions{Namespace: "default", Name: "taken", Holder: holder("r1"), Duration: dur,
			OnLost: func(cause error) { onLost.Store(cause); fence.Trip(cause) }})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = l.Release(context.Background()) })
		if _, err := kube.Unlock(ctx, clock.Real{}, c.Client, "default", "taken", "tester"); err != nil {
			t.Fatal(err)
		}
		if !waitClosed(l.Lost(), dur/2) {
			t.Fatalf("lease not given up within %s of being unlocked", dur/2)
		}
		if cause := l.Cause(); !errors.Is(cause, kube.ErrLeaseLost) || !strings.Contains(cause.Error(), "unlocked by tester") {
			t.Fatalf("cause = %v, want ErrLeaseLost naming who unlocked it", cause)
		}
		if onLost.Load() == nil {
			t.Fatal("OnLost was not called before Lost closed")
		}
		fenced := fencedClient(t, c.Config, fence)
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "after-loss"}}
		if _, err := fenced.CoreV1().ConfigMaps("default").Create(ctx, cm, metav1.CreateOptions{}); !errors.Is(err, kube.ErrLeaseLost) {
			t.Fatalf("write after the loss: %v, want it refused with ErrLeaseLost", err)
		}
		if _, err := c.Client.CoreV1().ConfigMaps("default").Get(ctx, "after-loss", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Fatalf("the fenced write reached the cluster: get = %v", err)
		}
	})

	// Renewals that fail (the API server unreachable from the holder) give
	// the lease up after half its duration, before anyone who watched it
	// could take it.
	t.Run("renewal fails", func(t *testing.T) {
		var down atomic.Bool
		cfg := rest.CopyConfig(c.Config)
		cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper {
			return roundTripFunc(func(r *http.Request) (*http.Response, error) {
				if down.Load() {
					return nil, errors.New("network is unreachable")
				}
				return rt.RoundTrip(r)
			})
		})
		client := kubernetes.NewForConfigOrDie(cfg)
		l, err := kube.Acquire(ctx, client, kube.LeaseOptions{Namespace: "default", Name: "partitioned", Holder: holder("r2"), Duration: dur})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = l.Release(context.Background()) })
		down.Store(true)
		if !waitClosed(l.Lost(), dur) {
			t.Fatalf("lease kept while renewals failed for %s", dur)
		}
		if cause := l.Cause(); !strings.Contains(cause.Error(), "could not renew") {
			t.Fatalf("cause = %v, want it to say renewals failed", cause)
		}
	})

	// A live holder whose clock is an hour behind writes RenewTimes that
	// look long expired here; its lease is still never taken, because
	// expiry is judged on this machine's clock from renewals seen here.
	t.Run("skewed live holder", func(t *testing.T) {
		stop := renewSkewed(t, c.Client, "skewed", -time.Hour, 2)
		defer stop()
		actx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		_, err := kube.Acquire(actx, c.Client, kube.LeaseOptions{Namespace: "default", Name: "skewed", Holder: holder("r3"), Duration: dur})
		if !errors.Is(err, kube.ErrLocked) {
			t.Fatalf("Acquire of a live lease with a skewed RenewTime: %v, want ErrLocked", err)
		}
	})

	// Release frees the lease in one write when no one else wrote it since,
	// and reads it again when someone did: an abort request is cleared, and
	// a lease unlocked and taken by another run is left to that run.
	t.Run("release", func(t *testing.T) {
		var calls atomic.Int32
		cfg := rest.CopyConfig(c.Config)
		cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper {
			return roundTripFunc(func(r *http.Request) (*http.Response, error) {
				calls.Add(1)
				return rt.RoundTrip(r)
			})
		})
		client := kubernetes.NewForConfigOrDie(cfg)
		leases := c.Client.CoordinationV1().Leases("default")
		acquire := func(name, run string) *kube.Lease {
			t.Helper()
			l, err := kube.Acquire(ctx, client, kube.LeaseOptions{Namespace: "default", Name: name, Holder: holder(run), Duration: time.Minute})
			if err != nil {
				t.Fatal(err)
			}
			return l
		}
		holderOf := func(name string) (string, map[string]string) {
			t.Helper()
			cur, err := leases.Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			return ptr.Deref(cur.Spec.HolderIdentity, ""), cur.Annotations
		}

		l := acquire("released", "r5")
		calls.Store(0)
		if err := l.Release(ctx); err != nil {
			t.Fatal(err)
		}
		if n := calls.Load(); n != 1 {
			t.Errorf("release of an unchanged lease made %d API calls, want 1 (the write)", n)
		}
		if h, _ := holderOf("released"); h != "" {
			t.Errorf("released lease still held by %q", h)
		}

		calls.Store(0)
		l = acquire("released", "r6")
		if n := calls.Load(); n != 1 {
			t.Errorf("acquiring a released lease made %d API calls, want 1 (the patch that tests it is free)", n)
		}
		if h, _ := holderOf("released"); h != holder("r6").String() {
			t.Errorf("lease held by %q after Acquire, want %q", h, holder("r6"))
		}
		// Held: another run is refused, though the fast path was tried.
		if _, err := kube.Acquire(ctx, client, kube.LeaseOptions{Namespace: "default", Name: "released", Holder: kube.Holder{User: "x", Host: "elsewhere", PID: 1, Run: "r9"}, Duration: time.Minute}); !errors.Is(err, kube.ErrLocked) {
			t.Errorf("Acquire of a held lease: %v, want ErrLocked", err)
		}
		if _, err := kube.RequestAbort(ctx, clock.Real{}, c.Client, "default", "released"); err != nil {
			t.Fatal(err)
		}
		if err := l.Release(ctx); err != nil {
			t.Fatal(err)
		}
		if h, ann := holderOf("released"); h != "" || ann[kube.AbortAnnotation] != "" {
			t.Errorf("after release: holder %q, abort annotation %q; want neither", h, ann[kube.AbortAnnotation])
		}

		l = acquire("released", "r7")
		if _, err := kube.Unlock(ctx, clock.Real{}, c.Client, "default", "released", "tester"); err != nil {
			t.Fatal(err)
		}
		other := acquire("released", "r8")
		if err := l.Release(ctx); err != nil {
			t.Fatal(err)
		}
		if h, _ := holderOf("released"); h != holder("r8").String() {
			t.Errorf("the unlocked run's release changed the new holder to %q, want %q", h, holder("r8"))
		}
		_ = other.Release(ctx)
	})

	// A dead holder's stale lease is taken once it has not changed for its
	// duration as seen here.
	t.Run("dead holder", func(t *testing.T) {
		stop := renewSkewed(t, c.Client, "stale", -time.Hour, 2)
		stop() // the holder dies
		actx, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		l, err := kube.Acquire(actx, c.Client, kube.LeaseOptions{Namespace: "default", Name: "stale", Holder: holder("r4"), Duration: dur})
		if err != nil {
			t.Fatalf("Acquire of a dead holder's lease: %v", err)
		}
		_ = l.Release(ctx)
	})
}

// renewSkewed plays another machine's live holder of lease name, whose
// clock is off by skew: it renews every 200 ms until stop is called.
func renewSkewed(t *testing.T, client kubernetes.Interface, name string, skew time.Duration, seconds int32) (stop func()) {
	t.Helper()
	ctx := t.Context()
	leases := client.CoordinationV1().Leases("default")
	now := func() *metav1.MicroTime { m := metav1.NewMicroTime(time.Now().Add(skew)); return &m }
	l := &coordv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: coordv1.LeaseSpec{
		HolderIdentity: ptr.To("someone@elsewhere pid=1 run=other"), LeaseDurationSeconds: ptr.To(seconds), RenewTime: now()}}
	if _, err := leases.Create(ctx, l, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		for {
			select {
			case <-done:
				return
			case <-time.After(200 * time.Millisecond):
			}
			cur, err := leases.Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				continue
			}
			cur.Spec.RenewTime = now()
			_, _ = leases.Update(ctx, cur, metav1.UpdateOptions{})
		}
	}()
	return func() {
		select {
		case <-done:
		default:
			close(done)
		}
		<-finished
	}
}

func fencedClient(t *testing.T, cfg *rest.Config, f *kube.Fence) kubernetes.Interface {
	t.Helper()
	cfg = rest.CopyConfig(cfg)
	cfg.Wrap(f.Wrap)
	return kubernetes.NewForConfigOrDie(cfg)
}

// The lease names the run that holds it or held it last, so that the
// newest run is read by name; when it cannot say for sure, LeaseRun says
// so and the caller lists the runs.
func TestLeaseRun(t *testing.T) {
	c := leaseBed(t)
	ctx := t.Context()
	leases := c.Client.CoordinationV1().Leases("default")
	run := func(name string) (string, bool) {
		t.Helper()
		id, ok, err := kube.LeaseRun(ctx, c.Client, "default", name)
		if err != nil {
			t.Fatal(err)
		}
		return id, ok
	}
	acquire := func(name, id string) *kube.Lease {
		t.Helper()
		l, err := kube.Acquire(ctx, c.Client, kube.LeaseOptions{Namespace: "default", Name: name, Holder: holder(id), Duration: 30 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	want := func(name, id string, ok bool) {
		t.Helper()
		if gotID, gotOK := run(name); gotID != id || gotOK != ok {
			t.Fatalf("LeaseRun(%s) = %q, %t; want %q, %t", name, gotID, gotOK, id, ok)
		}
	}

	want("no-such-lease", "", false)

	l := acquire("noted", "r1")
	want("noted", "r1", true) // held: the holder names it
	if err := l.Release(ctx); err != nil {
		t.Fatal(err)
	}
	want("noted", "r1", true) // released: the note names it
	l = acquire("noted", "r2")
	want("noted", "r2", true)
	if _, err := kube.Unlock(ctx, clock.Real{}, c.Client, "default", "noted", "tester"); err != nil {
		t.Fatal(err)
	}
	want("noted", "r2", true) // broken by unlock: noted too
	<-l.Lost()

	// A bluegreen that writes no note takes and releases the lease: the
	// note left is of an acquisition before, and says nothing.
	l = acquire("noted", "r3")
	if err := l.Release(ctx); err != nil {
		t.Fatal(err)
	}
	cur, err := leases.Get(ctx, "noted", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	later := metav1.NewMicroTime(cur.Spec.AcquireTime.Add(time.Second))
	cur.Spec.HolderIdentity, cur.Spec.AcquireTime = ptr.To("old@host pid=1 run=r4"), &later
	if cur, err = leases.Update(ctx, cur, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	want("noted", "r4", true) // held by it: its holder still names the run
	cur.Spec.HolderIdentity = ptr.To("")
	if _, err := leases.Update(ctx, cur, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	want("noted", "", false)

	// A lease held under a name without a run (written by hand) says
	// nothing either.
	if _, err := leases.Create(ctx, &coordv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: "by-hand"},
		Spec: coordv1.LeaseSpec{HolderIdentity: ptr.To("someone")}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	want("by-hand", "", false)
}
