package kube

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	coordv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"github.com/bluegreen/bluegreen/internal/clock"
)

// Sentinel errors callers branch on.
var (
	// ErrLocked is returned when another run holds the environment's lease.
	ErrLocked = errors.New("environment is locked by another run")
	// ErrLeaseLost means a run's lease was taken by someone else, deleted,
	// or could not be renewed for half its duration: the run must stop
	// acting at once.
	ErrLeaseLost = errors.New("lost the lease")
)

// Annotations bluegreen sets on a lease.
const (
	// AbortAnnotation asks the run holding the lease to abort.
	AbortAnnotation = "bluegreen.io/abort-requested"
	// UnlockedAnnotation records who broke the lease by force, and when.
	UnlockedAnnotation = "bluegreen.io/unlocked-by"
	// LastRunAnnotation names, on a lease released or broken, the run
	// that held it last and the acquisition it held ("ID acquired=TIME",
	// TIME the lease's acquireTime then); see LeaseRun.
	LastRunAnnotation = "bluegreen.io/last-run"
)

// DefaultLeaseDuration is how long a lease stays valid without renewal.
const DefaultLeaseDuration = 30 * time.Second

// LeaseOptions configures a lock.
type LeaseOptions struct {
	Namespace, Name string
	Holder          Holder
	// Duration is how long the lease stays valid without renewal (default
	// DefaultLeaseDuration). The holder renews it every Duration/6 and
	// gives it up after failing to renew for Duration/2.
	Duration time.Duration
	// OnLost is called once, before Lost is closed, when the lease is lost;
	// it must not block. The run uses it to cancel itself and trip its
	// Fence, so nothing it does afterwards reaches a cluster.
	OnLost func(cause error)
	Log    *slog.Logger
	// Clock measures renewals and expiry (default: the wall clock). Only
	// this machine's own clock judges expiry; see Acquire.
	Clock clock.Clock
}

func (o LeaseOptions) withDefaults() LeaseOptions {
	if o.Duration <= 0 {
		o.Duration = DefaultLeaseDuration
	}
	if o.Duration < time.Second {
		o.Duration = time.Second
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Clock == nil {
		o.Clock = clock.Real{}
	}
	return o
}

// renewEvery is how often the holder renews: a watcher sees a live lease
// change six times per duration.
func (o LeaseOptions) renewEvery() time.Duration { return o.Duration / 6 }

// Lease is a held lock. It renews itself until Release, and tells when it
// was lost.
type Lease struct {
	client  kubernetes.Interface
	opts    LeaseOptions
	cancel  context.CancelFunc
	done    chan struct{}
	abortMu sync.Once
	abort   chan struct{}
	lostMu  sync.Once
	lost    chan struct{}
	cause   error

	// mine is the lease as this holder last wrote it: Release writes over
	// it without reading first, and a conflict means someone else wrote
	// since (a new holder, an abort request), so it reads then.
	mineMu sync.Mutex
	mine   *coordv1.Lease
}

// Acquire takes the lease, or returns an error wrapping ErrLocked that
// names the holder. A free lease, one held by this very holder, or one held
// by a dead process of this machine is taken at once.
//
// Expiry is judged on this machine's clock only, the way client-go's leader
// election does it: the holder's RenewTime comes from another machine's
// clock, so a lease that looks expired is watched, and taken only after it
// has not changed for its whole duration as measured here. A live holder
// renews six times in that span, so clock skew can never hand its lease to
// someone else; a dead one costs one lease duration of waiting. A lease
// that looks fresh is refused at once.
func Acquire(ctx context.Context, client kubernetes.Interface, o LeaseOptions) (*Lease, error) {
	o = o.withDefaults()
	if mine, err := takeReleased(ctx, client, o); err == nil {
		return start(client, o, mine), nil
	}
	leases := client.CoordinationV1().Leases(o.Namespace)
	var watched *observation
	for {
		cur, err := leases.Get(ctx, o.Name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			mine, err := createLease(ctx, client, o)
			if apierrors.IsAlreadyExists(err) {
				continue
			}
			if err != nil {
				return nil, err
			}
			return start(client, o, mine), nil
		}
		if err != nil {
			return nil, fmt.Errorf("get lease %s/%s: %w", o.Namespace, o.Name, err)
		}
		free, err := takeable(cur, o, &watched)
		if err != nil {
			return nil, fmt.Errorf("lease %s/%s: %w", o.Namespace, o.Name, err)
		}
		if free {
			mine, err := takeOver(ctx, client, cur, o)
			if apierrors.IsConflict(err) {
				watched = nil // someone else wrote it: judge again
				continue
			}
			if err != nil {
				return nil, err
			}
			return start(client, o, mine), nil
		}
		if err := o.Clock.SleepUntil(ctx, o.Clock.Now().Add(min(time.Second, leaseDuration(cur)/6))); err != nil {
			return nil, err
		}
	}
}

// observation is a lease record seen unchanged since a local instant.
type observation struct {
	version string
	since   time.Time
}

// takeable judges cur for Acquire: free to take, to be watched longer
// (false, nil), or held (ErrLocked). watched carries what was seen before.
func takeable(cur *coordv1.Lease, o LeaseOptions, watched **observation) (bool, error) {
	holder := ptr.Deref(cur.Spec.HolderIdentity, "")
	if holder == "" || holder == o.Holder.String() || ParseHolder(holder).deadOnThisHost() {
		return true, nil
	}
	now := o.Clock.Now()
	if looksFresh(cur, now) {
		return false, lockedBy(cur)
	}
	switch w := *watched; {
	case w == nil:
		*watched = &observation{version: cur.ResourceVersion, since: now}
		o.Log.Warn("lease looks expired; watching it for its duration before taking it (clocks of other machines are not trusted)",
			"lease", o.Name, "holder", holder, "duration", leaseDuration(cur))
		return false, nil
	case w.version != cur.ResourceVersion:
		return false, lockedBy(cur) // renewed while watched: the holder is alive
	default:
		return now.Sub(w.since) >= leaseDuration(cur), nil
	}
}

// looksFresh reports whether the holder's own RenewTime says the lease is
// still valid at now. A RenewTime implausibly far ahead (the holder's clock
// runs fast) is not believed.
func looksFresh(l *coordv1.Lease, now time.Time) bool {
	if l.Spec.RenewTime == nil {
		return false
	}
	renewed := l.Spec.RenewTime.Time
	d := leaseDuration(l)
	return now.Before(renewed.Add(d)) && renewed.Before(now.Add(d))
}

func leaseDuration(l *coordv1.Lease) time.Duration {
	return time.Duration(ptr.Deref(l.Spec.LeaseDurationSeconds, int32(DefaultLeaseDuration/time.Second))) * time.Second
}

func lockedBy(l *coordv1.Lease) error {
	holder := ptr.Deref(l.Spec.HolderIdentity, "")
	var until string
	if l.Spec.RenewTime != nil {
		until = " (renewed " + l.Spec.RenewTime.UTC().Format(time.RFC3339) + " by its clock)"
	}
	return fmt.Errorf("%w: held by %s%s: wait for it to finish, stop it with `bluegreen abort`, or, if its machine is gone, break the lock with `bluegreen unlock`",
		ErrLocked, holder, until)
}

func spec(o LeaseOptions) coordv1.LeaseSpec {
	now := metav1.NewMicroTime(o.Clock.Now())
	return coordv1.LeaseSpec{
		HolderIdentity:       ptr.To(o.Holder.String()),
		LeaseDurationSeconds: ptr.To(int32(o.Duration / time.Second)),
		AcquireTime:          &now,
		RenewTime:            &now,
	}
}

// takeReleased takes a lease its last holder released, in one call: a
// JSON patch whose first operation tests that the holder is empty, which
// the API server applies atomically. Any other lease fails the test (no
// lease, a holder, a lease broken by unlock or released by an older
// bluegreen, which leave no holder field at all), and Acquire reads it and
// judges it.
func takeReleased(ctx context.Context, client kubernetes.Interface, o LeaseOptions) (*coordv1.Lease, error) {
	sp := spec(o)
	type op struct {
		Op    string `json:"op"`
		Path  string `json:"path"`
		Value any    `json:"value"`
	}
	patch, err := json.Marshal([]op{
		{"test", "/spec/holderIdentity", ""},
		{"add", "/spec/holderIdentity", *sp.HolderIdentity},
		{"add", "/spec/leaseDurationSeconds", *sp.LeaseDurationSeconds},
		{"add", "/spec/acquireTime", sp.AcquireTime},
		{"add", "/spec/renewTime", sp.RenewTime},
	})
	if err != nil {
		return nil, err
	}
	return client.CoordinationV1().Leases(o.Namespace).Patch(ctx, o.Name, types.JSONPatchType, patch, metav1.PatchOptions{})
}

func createLease(ctx context.Context, client kubernetes.Interface, o LeaseOptions) (*coordv1.Lease, error) {
	l := &coordv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: o.Name, Namespace: o.Namespace,
		Labels: map[string]string{"app.kubernetes.io/managed-by": "bluegreen"}}, Spec: spec(o)}
	out, err := client.CoordinationV1().Leases(o.Namespace).Create(ctx, l, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return nil, fmt.Errorf("create lease %s/%s: %w", o.Namespace, o.Name, err)
	}
	return out, err
}

// takeOver writes o's holder over cur; the resourceVersion makes it fail
// with a conflict if anyone wrote the lease since cur was read.
func takeOver(ctx context.Context, client kubernetes.Interface, cur *coordv1.Lease, o LeaseOptions) (*coordv1.Lease, error) {
	cur = cur.DeepCopy()
	cur.Spec = spec(o)
	delete(cur.Annotations, AbortAnnotation)
	delete(cur.Annotations, UnlockedAnnotation)
	out, err := client.CoordinationV1().Leases(o.Namespace).Update(ctx, cur, metav1.UpdateOptions{})
	if err != nil && !apierrors.IsConflict(err) {
		return nil, fmt.Errorf("take over lease %s/%s: %w", o.Namespace, o.Name, err)
	}
	return out, err
}

func start(client kubernetes.Interface, o LeaseOptions, mine *coordv1.Lease) *Lease {
	ctx, cancel := context.WithCancel(context.Background())
	l := &Lease{client: client, opts: o, cancel: cancel, done: make(chan struct{}),
		abort: make(chan struct{}), lost: make(chan struct{}), mine: mine}
	go l.renew(ctx)
	return l
}

// AbortRequested is closed when someone annotated the lease to ask the run
// to abort (see RequestAbort).
func (l *Lease) AbortRequested() <-chan struct{} { return l.abort }

// Lost is closed when the lease was lost; Cause then says why.
func (l *Lease) Lost() <-chan struct{} { return l.lost }

// Cause is nil while the lease is held, and an error wrapping ErrLeaseLost
// once it is lost.
func (l *Lease) Cause() error {
	select {
	case <-l.lost:
		return l.cause
	default:
		return nil
	}
}

func (l *Lease) lose(cause error) {
	l.lostMu.Do(func() {
		l.cause = cause
		l.opts.Log.Error("lost lease: stopping the run", "lease", l.opts.Name, "error", cause)
		if l.opts.OnLost != nil {
			l.opts.OnLost(cause)
		}
		close(l.lost)
	})
}
