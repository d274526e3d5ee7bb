package controller

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/events"
	"k8s.io/client-go/util/flowcontrol"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	"github.com/bluegreen/bluegreen/api/v1alpha1"
	"github.com/bluegreen/bluegreen/internal/clock"
	"github.com/bluegreen/bluegreen/internal/engine"
	"github.com/bluegreen/bluegreen/internal/journal"
	"github.com/bluegreen/bluegreen/internal/kube"
	"github.com/bluegreen/bluegreen/internal/plan"
	"github.com/bluegreen/bluegreen/internal/run"
	"github.com/bluegreen/bluegreen/internal/runstore"
	"github.com/bluegreen/bluegreen/internal/service"
	"github.com/bluegreen/bluegreen/internal/traffic"
)

// PromoteAnnotation on a BlueGreenRelease lets its paused run switch, as
// `bluegreen promote` does.
const PromoteAnnotation = "bluegreen.dev/promote"

// Reconciler carries BlueGreenReleases out. A reconcile never waits for a
// release: it reads where the release stands, starts or continues its run
// in a goroutine of its own when one is due, writes the status, and
// returns; the run's transitions bring the release back to the queue. A
// slow check on one release holds no worker another release needs.
type Reconciler struct {
	Client  client.Client
	Kube    kubernetes.Interface
	Config  *rest.Config
	Records dynamic.Interface
	// Identity is the cluster's identity, which keys run records.
	Identity func() (string, error)
	// Context is the name runs record as their cluster context.
	Context       string
	Clock         clock.Clock
	Log           *slog.Logger
	LeaseDuration time.Duration
	// QPS and Burst bound the API requests of all runs together (one
	// token bucket), 100 and 200 when zero.
	QPS   float32
	Burst int
	// Recorder puts Events on the releases (none when nil).
	Recorder events.EventRecorder
	// CrashAt, when set, is called at every step boundary of every run
	// (tests kill the process there; see run.CrashHookFromEnv).
	CrashAt func(step string, p engine.Phase)

	base    context.Context
	wg      sync.WaitGroup
	mu      sync.Mutex
	running map[types.NamespacedName]*flight
	// held back are releases whose last run could not start or be
	// recorded: the next try waits, doubling up to maxHold.
	held map[types.NamespacedName]hold
	// runTransport is the one connection pool of every run's clients,
	// limiter their one token bucket and urgent the second, for runs about
	// to switch or rolling back (see runLimiter), and leases the unfenced,
	// unthrottled client their Leases go through.
	runTransport    http.RoundTripper
	limiter, urgent flowcontrol.RateLimiter
	leases          kubernetes.Interface
	// records are the releases' newest runs as last read (see record).
	records map[types.NamespacedName]decoded
	wake    chan event.TypedGenericEvent[*v1alpha1.BlueGreenRelease]
	metrics *metrics
}

// flight is a run this process carries out, as far as its status tells:
// the engine owns the run itself while it runs.
type flight struct {
	id, operation, image, step string
}

// hold is a release held back after a run that failed to start.
type hold struct {
	until time.Time
	wait  time.Duration
	err   error
}

// Bounds of the wait before a release whose run failed to start is tried
// again.
const (
	minHold = 5 * time.Second
	maxHold = 5 * time.Minute
)

// SetupWithManager registers the reconciler, and a runnable whose context
// the runs take: when the manager stops, every run is interrupted at its
// next boundary and journaled, for the next leader to resume, before the
// manager returns.
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager) error {
	r.running = map[types.NamespacedName]*flight{}
	r.held = map[types.NamespacedName]hold{}
	r.records = map[types.NamespacedName]decoded{}
	if err := r.runClients(); err != nil {
		return err
	}
	r.metrics = newMetrics()
	r.wake = make(chan event.TypedGenericEvent[*v1alpha1.BlueGreenRelease], 1024)
	started := make(chan struct{})
	if err := mgr.Add(runnableFunc(func(ctx context.Context) error {
		r.base = ctx
		close(started)
		<-ctx.Done()
		r.wg.Wait()
		return nil
	})); err != nil {
		return err
	}
	// A run of the app that someone else moves on (a `bluegreen promote`
	// from a terminal) brings its release back: only the runs' metadata
	// is cached, for their app label.
	runs := &metav1.PartialObjectMetadata{}
	runs.SetGroupVersionKind(runstore.GVR.GroupVersion().WithKind("BlueGreenRun"))
	return ctrl.NewControllerManagedBy(mgr).
		For(&v1alpha1.BlueGreenRelease{}).
		WatchesMetadata(runs, handler.EnqueueRequestsFromMapFunc(func(_ context.Context, o client.Object) []reconcile.Request {
			app := o.GetLabels()[runstore.LabelApp]
			if app == "" || o.GetLabels()[runstore.LabelScope] != string(journal.ScopeService) {
				return nil
			}
			return []reconcile.Request{{NamespacedName: types.NamespacedName{Namespace: o.GetNamespace(), Name: app}}}
		})).
		WatchesRawSource(source.Channel(r.wake, &handler.TypedEnqueueRequestForObject[*v1alpha1.BlueGreenRelease]{})).
		Complete(readyAfter(started, r))
}

// Reconcile implements reconcile.Reconciler.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	var obj v1alpha1.BlueGreenRelease
	if err := r.Client.Get(ctx, req.NamespacedName, &obj); err != nil {
		if apierrors.IsNotFound(err) {
			r.metrics.phase(req.NamespacedName, "", true)
			r.mu.Lock()
			delete(r.records, req.NamespacedName)
			r.mu.Unlock()
		}
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	log := r.Log.With("release", req.String())
	st := &status{Phase: v1alpha1.PhaseIdle}
	// First: only a reconcile of this release starts its runs, and
	// reconciles of one release never overlap, so a release with no run
	// in flight now has none while this reconcile reads.
	cur := r.inFlight(req.NamespacedName)
	defer func() {
		r.metrics.phase(req.NamespacedName, st.Phase, false)
		if err := r.writeStatus(ctx, &obj, st); err != nil {
			log.Warn("write status", "error", err)
		}
	}()
	rel, err := ReleaseOf(ctx, &obj, r.secretReader(obj.Namespace))
	if err != nil {
		st.fail("InvalidSpec", err)
		return ctrl.Result{}, nil
	}
	store := runstore.Identifying(r.Records, obj.Namespace, r.Identity)
	v, err := r.cachedView(ctx, store, obj.Namespace, rel)
	if err != nil {
		return ctrl.Result{}, err
	}
	st.observe(v)
	if cur != nil {
		st.progress(*cur)
		return ctrl.Result{}, nil
	}
	if h, ok := r.heldBack(req.NamespacedName); ok {
		st.fail("RunFailedToStart", fmt.Errorf("%w; trying again in %s", h.err, h.until.Sub(r.Clock.Now()).Round(time.Second)))
		return ctrl.Result{RequeueAfter: h.until.Sub(r.Clock.Now())}, nil
	}
	if res, due, err := r.decide(ctx, &obj, store, v, rel, st); !due || err != nil {
		return res, err
	}
	// A new run looks due. The cache may lag a run's end (a Service still
	// on the old color beside the run that switched it, which would
	// release the image again), so the release is decided again on what
	// the API server says now.
	v, obs, err := r.liveView(ctx, store, obj.Namespace, rel)
	if err != nil {
		return ctrl.Result{}, err
	}
	*st = status{Phase: v1alpha1.PhaseIdle}
	st.observe(v)
	if res, due, err := r.decide(ctx, &obj, store, v, rel, st); !due || err != nil {
		return res, err
	}
	if err := run.CheckFree(ctx, r.Clock, r.Kube, run.ServiceKey(obj.Namespace, obj.Name)); err != nil {
		st.Phase = v1alpha1.PhaseProgressing
		st.note("Locked", err.Error())
		return ctrl.Result{RequeueAfter: 10 * time.Second}, nil
	}
	rn, err := run.PlanDeployFrom(r.Clock, r.Context, rel, obs)
	if err != nil {
		if errors.Is(err, plan.ErrInvalid) {
			st.fail("InvalidRelease", err)
			return ctrl.Result{}, nil
		}
		return ctrl.Result{}, err
	}
	rn.Actor = "controller"
	return r.start(&obj, store, rn, st, func(ctx context.Context, e *engine.Engine) error { return e.Run(ctx, rn) })
}

// decide carries the release on from view v when its newest run is not
// over (a pause, a due scale-down, a run some process left), or reports
// it idle or failed; due says that none of these holds and a new run of
// spec.image is due.
func (r *Reconciler) decide(ctx context.Context, obj *v1alpha1.BlueGreenRelease, store *runstore.Store, v view, rel plan.ServiceRelease,
	st *status) (res ctrl.Result, due bool, err error) {
	last := v.last
	st.last(last)
	r.Log.Debug("reconcile", "release", obj.Namespace+"/"+obj.Name, "generation", obj.Generation, "image", rel.Image,
		"active", st.ActiveColor, "activeImage", st.ActiveImage, "lastRun", st.LastRun)
	switch {
	case last != nil && last.State == journal.Paused:
		st.Phase = v1alpha1.PhasePaused
		if _, ok := obj.Annotations[PromoteAnnotation]; !ok {
			return ctrl.Result{}, false, nil
		}
		// The annotation lets this one run through: it is taken off
		// first, so that it does not also let the next Manual release;
		// and only once the API server confirms the run still waits (the
		// cache may be behind a promote typed at a terminal).
		if fresh, err := store.Get(ctx, last.ID); err != nil || fresh.State != journal.Paused {
			return ctrl.Result{}, false, err
		}
		before := obj.DeepCopy()
		delete(obj.Annotations, PromoteAnnotation)
		if err := r.Client.Patch(ctx, obj, client.MergeFrom(before)); err != nil {
			return ctrl.Result{}, false, err
		}
		res, err := r.drive(ctx, obj, store, last, run.Promote, st)
		return res, false, err
	case last != nil && last.State == journal.Waiting:
		if wait := last.DueAt.Sub(r.Clock.Now()); wait > 0 {
			return ctrl.Result{RequeueAfter: wait}, false, nil
		}
		res, err := r.drive(ctx, obj, store, last, run.Resume, st)
		return res, false, err
	case last != nil && !last.State.Final():
		// A run some process left (a controller that stopped, a CLI
		// that was killed): its record says where; the Lease says
		// whether it is still held.
		res, err := r.drive(ctx, obj, store, last, run.Resume, st)
		return res, false, err
	case st.ActiveImage == rel.Image:
		st.ready(fmt.Sprintf("%s serves %s", st.ActiveColor, rel.Image))
		return ctrl.Result{}, false, nil
	case last != nil && imageOf(last) == rel.Image && last.State != journal.Succeeded:
		st.Phase = v1alpha1.PhaseRolledBack
		if last.State != journal.RolledBack {
			st.Phase = v1alpha1.PhaseFailed
		}
		st.fail("ReleaseFailed", fmt.Errorf("run %s of %s ended %s: %s; set another image to release again", last.ID, rel.Image, last.State, last.Reason))
		return ctrl.Result{}, false, nil
	}
	return ctrl.Result{}, true, nil
}

// drive continues run rn with verb v in the background.
func (r *Reconciler) drive(ctx context.Context, obj *v1alpha1.BlueGreenRelease, store *runstore.Store, rn *journal.Run, v run.Verb, st *status) (ctrl.Result, error) {
	if err := run.CheckFree(ctx, r.Clock, r.Kube, run.KeyOf(rn)); err != nil {
		st.note("Locked", err.Error())
		return ctrl.Result{RequeueAfter: 10 * time.Second}, nil
	}
	cmds := func(v run.Verb) string { return fmt.Sprintf("bluegreen %s %s -n %s", v, obj.Name, obj.Namespace) }
	if err := run.Check(v, rn, cmds); err != nil { // a promote records the approval here
		st.fail("CannotContinue", err)
		return ctrl.Result{}, nil
	}
	// Execute checks, with the Lease held, that the run is still as read
	// here (run.ErrStale otherwise); the wake-up at its end reconciles
	// the release again.
	return r.start(obj, store, rn, st, func(ctx context.Context, e *engine.Engine) error { return run.Drive(ctx, e, v, rn) })
}

// start runs fn for rn in a goroutine, through clients behind a fence of
// the run's own, with rn's Lease held.
func (r *Reconciler) start(obj *v1alpha1.BlueGreenRelease, store *runstore.Store, rn *journal.Run, st *status,
	fn func(context.Context, *engine.Engine) error) (ctrl.Result, error) {
	name := types.NamespacedName{Namespace: obj.Namespace, Name: obj.Name}
	fence := &kube.Fence{}
	lim := &runLimiter{normal: r.limiter, urgent: r.urgent}
	lim.hot.Store(critical(rn))
	cs, err := r.runClient(fence.Wrap(r.runTransport), lim)
	if err != nil {
		return ctrl.Result{}, err
	}
	router, err := traffic.NewService(traffic.Deps{Kube: cs, Clock: r.Clock})
	if err != nil {
		return ctrl.Result{}, err
	}
	acts := run.ServiceActions(rn, service.Deps{Client: cs, Router: router, Clock: r.Clock, Log: r.Log})
	fl := &flight{id: rn.ID, operation: rn.Operation, image: imageOf(rn)}
	// The run's goroutine has a copy of its own: the reconcile goes on
	// writing the status into obj.
	obj = obj.DeepCopy()
	wake := func(ev engine.Event) {
		lim.follow(ev)
		r.metrics.observe(ev)
		recordOn(r.Recorder, obj, ev)
		stepped := ev.Step != nil && (ev.Kind == engine.StepStarted || ev.Kind == engine.StepUndoing)
		if stepped {
			r.mu.Lock()
			fl.step = ev.Step.Name
			r.mu.Unlock()
		}
		if !stepped && ev.Kind != "" && !strings.HasPrefix(string(ev.Kind), "run-") {
			return // a step's end or progress: nothing the status shows
		}
		select {
		case r.wake <- event.TypedGenericEvent[*v1alpha1.BlueGreenRelease]{Object: obj}:
		default: // the queue holds a wake-up already
		}
	}
	runner := &run.Runner{Store: store, Lease: r.leases, LeaseDuration: r.LeaseDuration, Fence: fence, Clock: r.Clock, Log: r.Log,
		Sinks: run.Sinks{Events: cs, EventRefs: r.cachedRef, Secrets: run.Secrets(rn), Extra: []func(engine.Event){wake}}, CrashAt: r.CrashAt}
	r.mu.Lock()
	r.running[name] = fl
	r.mu.Unlock()
	r.wg.Go(func() {
		err := runner.Execute(r.base, rn, acts, 0, fn)
		if err != nil && !errors.Is(err, engine.ErrPaused) && !errors.Is(err, engine.ErrWaiting) {
			r.Log.Info("run ended", "release", name.String(), "run", rn.ID, "state", rn.State, "error", err)
		}
		// The record as this run left it: a cache still on an older
		// version of it is then read through, not believed (it would
		// show the run as running, and a resume would be tried).
		if v := store.Version(rn.ID); v != "" && !errors.Is(err, run.ErrStale) {
			r.mu.Lock()
			r.records[name] = decoded{resourceVersion: v, run: rn}
			r.mu.Unlock()
		}
		unrecorded := false
		if err != nil && r.base.Err() == nil {
			_, gerr := store.Get(context.WithoutCancel(r.base), rn.ID)
			unrecorded = gerr != nil
		}
		r.mu.Lock()
		delete(r.running, name)
		h := r.held[name]
		switch {
		case unrecorded:
			// The run never got going (its record could not be written,
			// the Lease not taken): try again later, not at once.
			h.wait = min(max(2*h.wait, minHold), maxHold)
			h.until, h.err = r.Clock.Now().Add(h.wait), err
			r.held[name] = h
		default:
			delete(r.held, name)
		}
		r.mu.Unlock()
		wake(engine.Event{})
	})
	st.progress(*fl)
	return ctrl.Result{}, nil
}

// runClients makes what every run's clients share: one connection pool
// (a client of its own each would open a connection, and do a TLS
// handshake, per run) and one token bucket.
func (r *Reconciler) runClients() error {
	rt, err := rest.TransportFor(r.Config)
	if err != nil {
		return fmt.Errorf("transport for the runs: %w", err)
	}
	qps, burst := r.QPS, r.Burst
	if qps <= 0 {
		qps, burst = 100, 200
	}
	r.runTransport, r.limiter = rt, flowcontrol.NewTokenBucketRateLimiter(qps, max(burst, int(qps)))
	r.urgent = flowcontrol.NewTokenBucketRateLimiter(qps, max(burst, int(qps)))
	// The Leases' renewals are never throttled: queued behind the runs'
	// own requests, they came too late, and the runs lost their Leases
	// and stopped. They are few (one a run every few seconds).
	cfg := rest.CopyConfig(r.Config)
	cfg.RateLimiter = flowcontrol.NewFakeAlwaysRateLimiter()
	r.leases, err = kubernetes.NewForConfigAndClient(cfg, &http.Client{Transport: rt, Timeout: cfg.Timeout})
	return err
}

// runClient is a clientset over rt, within the request budget lim.
func (r *Reconciler) runClient(rt http.RoundTripper, lim flowcontrol.RateLimiter) (kubernetes.Interface, error) {
	cfg := rest.CopyConfig(r.Config)
	cfg.RateLimiter = lim
	return kubernetes.NewForConfigAndClient(cfg, &http.Client{Transport: rt, Timeout: cfg.Timeout})
}

// heldBack says whether a release waits after a run that failed to start.
func (r *Reconciler) heldBack(name types.NamespacedName) (hold, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	h, ok := r.held[name]
	return h, ok && r.Clock.Now().Before(h.until)
}

// inFlight is a copy of the release's run in flight, or nil.
func (r *Reconciler) inFlight(name types.NamespacedName) *flight {
	r.mu.Lock()
	defer r.mu.Unlock()
	if f := r.running[name]; f != nil {
		c := *f
		return &c
	}
	return nil
}

// secretReader reads Secrets of ns straight from the API server: the
// controller caches no Secrets.
func (r *Reconciler) secretReader(ns string) SecretReader {
	return func(ctx context.Context, name string) (map[string]string, error) {
		s, err := r.Kube.CoreV1().Secrets(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return nil, err
		}
		out := map[string]string{}
		for k, v := range s.Data {
			out[k] = string(v)
		}
		return out, nil
	}
}

// imageOf is the image a run released.
func imageOf(r *journal.Run) string {
	var rel plan.ServiceRelease
	if json.Unmarshal(r.Spec, &rel) != nil {
		return ""
	}
	return rel.Image
}

// status is the status a reconcile writes.
type status struct {
	Phase       v1alpha1.Phase
	ActiveColor string
	ActiveImage string
	CurrentStep string
	LastRun     *v1alpha1.RunReference
	conds       []metav1.Condition
}

func (s *status) observe(v view) {
	s.ActiveColor, s.ActiveImage = string(v.active), v.activeImage
}

func (s *status) last(rn *journal.Run) {
	if rn != nil {
		s.LastRun = &v1alpha1.RunReference{ID: rn.ID, Operation: rn.Operation, State: string(rn.State), Image: imageOf(rn)}
	}
}

func (s *status) progress(f flight) {
	s.Phase = v1alpha1.PhaseProgressing
	s.LastRun = &v1alpha1.RunReference{ID: f.id, Operation: f.operation, State: string(journal.Running), Image: f.image}
	s.CurrentStep = f.step
	s.conds = append(s.conds,
		metav1.Condition{Type: "Progressing", Status: metav1.ConditionTrue, Reason: "RunActive", Message: "run " + f.id + " is carrying the release out"},
		metav1.Condition{Type: "Ready", Status: metav1.ConditionFalse, Reason: "RunActive", Message: "a release is in progress"})
}

func (s *status) ready(msg string) {
	s.conds = append(s.conds,
		metav1.Condition{Type: "Ready", Status: metav1.ConditionTrue, Reason: "Serving", Message: msg},
		metav1.Condition{Type: "Progressing", Status: metav1.ConditionFalse, Reason: "Idle", Message: "nothing to release"})
}

func (s *status) fail(reason string, err error) {
	if s.Phase == v1alpha1.PhaseIdle {
		s.Phase = v1alpha1.PhaseFailed
	}
	s.conds = append(s.conds,
		metav1.Condition{Type: "Ready", Status: metav1.ConditionFalse, Reason: reason, Message: err.Error()},
		metav1.Condition{Type: "Degraded", Status: metav1.ConditionTrue, Reason: reason, Message: err.Error()})
}

func (s *status) note(reason, msg string) {
	s.conds = append(s.conds, metav1.Condition{Type: "Progressing", Status: metav1.ConditionTrue, Reason: reason, Message: msg})
}

// writeStatus patches the status when it changed.
func (r *Reconciler) writeStatus(ctx context.Context, obj *v1alpha1.BlueGreenRelease, s *status) error {
	before := obj.DeepCopy()
	obj.Status.ObservedGeneration = obj.Generation
	obj.Status.Phase, obj.Status.ActiveColor, obj.Status.ActiveImage = s.Phase, s.ActiveColor, s.ActiveImage
	obj.Status.CurrentStep, obj.Status.LastRun = s.CurrentStep, s.LastRun
	if meta.FindStatusCondition(s.conds, "Degraded") == nil {
		meta.RemoveStatusCondition(&obj.Status.Conditions, "Degraded")
	}
	for _, c := range s.conds {
		c.ObservedGeneration = obj.Generation
		meta.SetStatusCondition(&obj.Status.Conditions, c)
	}
	if equality.Semantic.DeepEqual(before.Status, obj.Status) {
		return nil
	}
	return r.Client.Status().Patch(ctx, obj, client.MergeFrom(before))
}

// runnableFunc is a manager.Runnable from a func; it runs on the leader
// only, as the controllers do.
type runnableFunc func(context.Context) error

func (f runnableFunc) Start(ctx context.Context) error { return f(ctx) }

// readyAfter holds reconciles until started is closed: a run needs the
// manager's context, which the runnable receives.
func readyAfter(started <-chan struct{}, r reconcile.Reconciler) reconcile.Reconciler {
	return reconcile.Func(func(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
		select {
		case <-started:
		case <-ctx.Done():
			return reconcile.Result{}, ctx.Err()
		}
		return r.Reconcile(ctx, req)
	})
}
