// Package run runs a release of any scope: it holds the release's Lease,
// drives the engine over the scope's actions with the journal, and fans
// every transition out to the sinks (audit log, Kubernetes Events,
// notifications, and the caller's own, such as the CLI's live view). A run
// that loses its Lease stops acting at once. The package imports no
// command-line code: the CLI and a controller use it alike.
package run

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"syscall"
	"time"

	"k8s.io/client-go/kubernetes"

	"github.com/bluegreen/bluegreen/internal/clock"
	"github.com/bluegreen/bluegreen/internal/engine"
	"github.com/bluegreen/bluegreen/internal/journal"
	"github.com/bluegreen/bluegreen/internal/kube"
)

// Key names the one run of a release that may act at a time: its scope,
// and the namespace and name of its Lease in the cluster that holds it.
type Key struct {
	Scope journal.Scope
	// Namespace and App are the app's at service scope; at cluster scope
	// App is the migration's name and the Lease lives in "default" of
	// cluster A.
	Namespace, App string
}

// KeyOf is the key of run r.
func KeyOf(r *journal.Run) Key {
	if r.Scope == journal.ScopeCluster {
		return Key{Scope: r.Scope, Namespace: "default", App: r.App}
	}
	return Key{Scope: r.Scope, Namespace: r.Namespace, App: r.App}
}

// ServiceKey is the key of a service-scope app.
func ServiceKey(ns, app string) Key {
	return Key{Scope: journal.ScopeService, Namespace: ns, App: app}
}

// ProductKey is the key of a namespace-scope product whose Lease and runs
// are in namespace ns (the blue namespace).
func ProductKey(ns, product string) Key {
	return Key{Scope: journal.ScopeNamespace, Namespace: ns, App: product}
}

// MigrationKey is the key of a cluster-scope migration.
func MigrationKey(name string) Key {
	return Key{Scope: journal.ScopeCluster, Namespace: "default", App: name}
}

// String names the release: "prod/shop", "product payments", or
// "migration shop-133".
func (k Key) String() string {
	switch k.Scope {
	case journal.ScopeCluster:
		return "migration " + k.App
	case journal.ScopeNamespace:
		return "product " + k.App
	}
	return k.Namespace + "/" + k.App
}

// Filter selects the key's runs journaled through kubeconfig context kctx.
func (k Key) Filter(kctx string) journal.Filter {
	f := journal.Filter{Scope: k.Scope, Context: kctx, App: k.App}
	if k.Scope == journal.ScopeService {
		f.Namespace = k.Namespace
	}
	return f
}

// LeaseName is the name of the key's Lease.
func (k Key) LeaseName() string {
	switch k.Scope {
	case journal.ScopeCluster:
		return "bluegreen-migrate-" + k.App
	case journal.ScopeNamespace:
		// Not bluegreen-<app>: a service-scope app of the product's name
		// may live in the same namespace.
		return "bluegreen-product-" + k.App
	}
	return "bluegreen-" + k.App
}

// Runner runs releases. The zero value is not usable: Store, Lease and
// Fence are required.
type Runner struct {
	Store journal.Store
	// Lease is the client the Lease is held through. It must not go
	// through Fence: the Lease's own calls outlive a trip.
	Lease kubernetes.Interface
	// LeaseDuration is how long the Lease stays valid without renewal
	// (kube.DefaultLeaseDuration when zero).
	LeaseDuration time.Duration
	// Fence cuts every other client off from the clusters and AWS when
	// the Lease is lost.
	Fence *kube.Fence
	Clock clock.Clock
	Log   *slog.Logger
	// Sinks receive every transition.
	Sinks Sinks
	// CrashAt, when set, is called at every step boundary (tests kill the
	// process there).
	CrashAt func(step string, p engine.Phase)
}

// Execute runs fn for run r with r's Lease held and an engine over
// actions (lanes run parallelism at a time). fn's context is cancelled
// with cause engine.ErrAbortRequested when someone asks the holder to
// abort, and with the loss when the Lease is lost: then the fence is
// tripped too, so that nothing the run still does reaches a cluster or
// AWS, and the run is journaled as failed so that no resume acts on a plan
// someone else's run has overtaken. The Lease is released when fn returns.
//
// The run is journaled only by fn (the engine's first write): a run whose
// Lease cannot be taken leaves nothing behind to resume. A journaled run
// must still be as the caller read it once the Lease is held: otherwise
// Execute returns ErrStale and does nothing.
func (x *Runner) Execute(ctx context.Context, r *journal.Run, actions map[string]engine.Action, parallelism int,
	fn func(context.Context, *engine.Engine) error) error {
	ctx, lease, release, err := x.hold(ctx, KeyOf(r), r.ID)
	if err != nil {
		return err
	}
	defer release()
	if err := x.unchanged(ctx, r); err != nil {
		return err
	}
	go func() {
		select {
		case <-lease.AbortRequested():
			lease.cancel(engine.ErrAbortRequested)
		case <-ctx.Done():
		}
	}()
	observe, closeSinks := x.Sinks.Open(ctx, r, x.Log, x.Clock)
	e := &engine.Engine{Store: x.Store, Actions: actions, Clock: x.Clock, Log: x.Log,
		Observe: observe, CrashAt: x.CrashAt, Parallelism: parallelism}
	err = fn(ctx, e)
	closeSinks()
	if cause := lease.Cause(); cause != nil {
		return x.superseded(context.WithoutCancel(ctx), r, cause, err)
	}
	return err
}

// ErrStale means a run's record changed between the caller's read and the
// Lease: someone else carried the run on in between (and let the Lease
// go). Acting on the old record would repeat or skip steps, so nothing
// was done; read the run again.
var ErrStale = errors.New("the run changed since it was read")

// unchanged checks, with the Lease held, that r's record is still the one
// the caller read. A run not yet journaled is new and passes.
func (x *Runner) unchanged(ctx context.Context, r *journal.Run) error {
	fresh, err := x.Store.Get(ctx, r.ID)
	if errors.Is(err, journal.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read run %s again with its lease held: %w", r.ID, err)
	}
	if fresh.State != r.State || !fresh.UpdatedAt.Equal(r.UpdatedAt) {
		return fmt.Errorf("%w: run %s of %s is %s now, not %s as read: another command or the controller carried it on; "+
			"see where it stands with `bluegreen status` and ask again", ErrStale, r.ID, r.App, fresh.State, r.State)
	}
	return nil
}

// held is a Lease this process holds, with the cancel of the context it
// guards.
type held struct {
	*kube.Lease
	cancel context.CancelCauseFunc
}

// hold takes k's Lease for run id. The returned context is cancelled with
// the loss when the Lease is lost, and the fence is tripped then, so that
// nothing the holder still does reaches a cluster or AWS. release gives
// the Lease back and cancels the context.
func (x *Runner) hold(ctx context.Context, k Key, id string) (context.Context, held, func(), error) {
	ctx, cancel := context.WithCancelCause(ctx)
	o := kube.LeaseOptions{Namespace: k.Namespace, Name: k.LeaseName(), Holder: kube.Self(id),
		Duration: x.LeaseDuration, Log: x.Log, Clock: x.Clock,
		OnLost: func(cause error) {
			// Cancel first: an action that sees the fence's error then
			// also sees its context done, and the engine stops instead of
			// rolling back.
			cancel(cause)
			x.Fence.Trip(cause)
		}}
	lease, err := kube.Acquire(ctx, x.Lease, o)
	if err != nil {
		cancel(nil)
		return ctx, held{}, nil, err
	}
	return ctx, held{lease, cancel}, func() {
		if err := lease.Release(context.WithoutCancel(ctx)); err != nil {
			x.Log.Warn("release lease", "error", err)
		}
		cancel(nil)
	}, nil
}

// superseded journals a run that lost its Lease as failed (final: resume
// refuses it, rollback stays possible) and returns why it stopped.
func (x *Runner) superseded(ctx context.Context, r *journal.Run, cause, runErr error) error {
	if runErr == nil && r.State.Final() {
		return nil // lost after the run had ended: nothing was cut short
	}
	step := "before its first step"
	for i := range r.Steps {
		if st := r.Steps[i].State; st == journal.Started || st == journal.Undoing {
			step = "at step " + r.Steps[i].Name
		}
	}
	r.State = journal.Failed
	r.Reason = fmt.Sprintf("stopped %s: %v; another run may have changed the app since, so this run is not resumed", step, cause)
	r.UpdatedAt = x.Clock.Now().UTC()
	if err := x.Store.Save(ctx, r); err != nil {
		x.Log.Warn("journal the run that lost its lease", "run", r.ID, "error", err)
	}
	if runErr != nil {
		x.Log.Debug("run stopped after losing its lease", "run", r.ID, "error", runErr)
	}
	return fmt.Errorf("run %s %s: %w; it made no change after that. See who holds the app now with `bluegreen status`; "+
		"roll this run back with `bluegreen rollback` only once no other run is active", r.ID, step, cause)
}

// CrashHookFromEnv reads BLUEGREEN_TEST_CRASH_AT=step/phase and returns a
// hook that kills the process with SIGKILL exactly there. The
// crash-recovery tests use it to stop a run at every step boundary; it is
// nil when the variable is unset.
func CrashHookFromEnv() func(string, engine.Phase) {
	at := os.Getenv("BLUEGREEN_TEST_CRASH_AT")
	if at == "" {
		return nil
	}
	return func(step string, p engine.Phase) {
		if at == step+"/"+string(p) {
			_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
			select {} // the signal ends the process
		}
	}
}

// Runs lists runs; unreadable records are skipped with a warning, so one
// damaged run does not hide the others.
func Runs(ctx context.Context, st journal.Store, log *slog.Logger, f journal.Filter) ([]*journal.Run, error) {
	runs, err := st.List(ctx, f)
	var bad *journal.BadRecordsError
	if errors.As(err, &bad) {
		log.Warn("skipped unreadable runs in the journal", "error", err)
		return runs, nil
	}
	return runs, err
}

// Newest is the newest run of key k that f matches, or nil. The key's
// Lease names it (kube.LeaseRun), and it is read by name: two reads of one
// object each, from etcd. A list of the runs, which Last makes, grows with
// the app's history, and on a busy cluster waits 60–100 ms for the API
// server's watch cache to catch up with etcd. When the Lease cannot say
// (there is none, it was last taken by a bluegreen that leaves no note, or
// the run it names is gone, unreadable or not f's), the runs are listed.
func Newest(ctx context.Context, st journal.Store, leases kubernetes.Interface, log *slog.Logger, k Key, f journal.Filter) (*journal.Run, error) {
	id, ok, err := kube.LeaseRun(ctx, leases, k.Namespace, k.LeaseName())
	if err != nil {
		log.Debug("read the lease for the newest run; listing runs", "lease", k.LeaseName(), "error", err)
	}
	if ok {
		// Runs in the cluster are told apart by the cluster's identity
		// (the store's Get checks it), not by the name of the kubeconfig
		// context that journaled them, as List does.
		byKey := f
		byKey.Context = ""
		r, err := st.Get(ctx, id)
		if err == nil && byKey.Matches(r) {
			return r, nil
		}
		// Gone, unreadable (killed between its create and its first
		// write) or not f's: the list tells, skipping what it cannot read
		// with a warning.
		log.Debug("the run the lease names is not the newest readable one; listing runs", "run", id, "error", err)
	}
	return Last(ctx, st, log, f)
}

// Last is the newest run that f matches, or nil.
func Last(ctx context.Context, st journal.Store, log *slog.Logger, f journal.Filter) (*journal.Run, error) {
	f.Limit = 1
	runs, err := Runs(ctx, st, log, f)
	if err != nil || len(runs) == 0 {
		return nil, err
	}
	return runs[0], nil
}
