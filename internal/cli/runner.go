package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"

	"golang.org/x/term"
	"k8s.io/client-go/kubernetes"

	"github.com/bluegreen/bluegreen/internal/check"
	"github.com/bluegreen/bluegreen/internal/engine"
	"github.com/bluegreen/bluegreen/internal/journal"
	"github.com/bluegreen/bluegreen/internal/kube"
	"github.com/bluegreen/bluegreen/internal/plan"
	"github.com/bluegreen/bluegreen/internal/service"
	"github.com/bluegreen/bluegreen/internal/traffic"
)

// session is one command's connection to a cluster and the journal.
type session struct {
	g             *Global
	clients       *kube.Clients
	store         journal.Store
	checkDefaults check.Defaults
}

func (g *Global) session(ctx context.Context) (*session, error) {
	// Read before anything else, so a bad HEALTH_CHECK_* value fails
	// before the first write.
	defaults, err := check.DefaultsFromEnv(os.LookupEnv)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", plan.ErrInvalid, err)
	}
	c, err := g.connect(ctx)
	if err != nil {
		return nil, err
	}
	st, err := g.store()
	if err != nil {
		return nil, err
	}
	return &session{g: g, clients: c, store: st, checkDefaults: defaults}, nil
}

func leaseName(app string) string { return "bluegreen-" + app }

// execute runs fn with the environment's lease held, an engine wired to the
// journal, the live view, the audit log, Kubernetes Events and notifications,
// and a context that is cancelled if someone requests an abort.
func (s *session) execute(ctx context.Context, r *journal.Run, approver service.Approver, fn func(context.Context, *engine.Engine) error) error {
	actions := service.Actions
	if r.Operation == "init" {
		actions = service.InitActions
	}
	return s.withLease(ctx, r, s.clients.Lease, kube.LeaseOptions{Namespace: r.Namespace, Name: leaseName(r.App), Holder: kube.Self(r.ID)},
		func(ctx context.Context) error {
			router, err := traffic.NewService(traffic.Deps{Kube: s.clients.Kube, Clock: s.g.clock})
			if err != nil {
				return err
			}
			obs, closeObs := s.observer(ctx, r)
			defer closeObs()
			e := &engine.Engine{
				Store: s.store,
				Actions: actions(service.Deps{
					Client: s.clients.Kube, Router: router, Clock: s.g.clock, Log: s.g.log,
					CheckDefaults: s.checkDefaults, CheckOptions: []check.Option{check.WithLogger(s.g.log)}, Approver: approver,
				}),
				Clock:   s.g.clock,
				Log:     s.g.log,
				Observe: obs,
				CrashAt: crashHook(),
			}
			return fn(ctx, e)
		})
}

// withLease runs fn for run r while holding the Lease o names, through c (a
// client outside the fence). fn's context is cancelled with cause
// engine.ErrAbortRequested when someone asks the holder to abort, and with
// the loss when the Lease is lost: then the fence is tripped too, so that
// nothing the run still does reaches a cluster or AWS, and the run is
// journaled as failed so that no `resume` acts on a plan someone else's run
// has overtaken. The Lease is released when fn returns.
//
// The run is journaled only by fn (the engine's first write): a run whose
// Lease cannot be taken leaves nothing behind to resume.
func (s *session) withLease(ctx context.Context, r *journal.Run, c kubernetes.Interface, o kube.LeaseOptions, fn func(context.Context) error) error {
	g := s.g
	o.Log, o.Duration = g.log, g.LeaseDuration
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	o.OnLost = func(cause error) {
		// Cancel first: an action that sees the fence's error then also
		// sees its context done, and the engine stops instead of rolling
		// back.
		cancel(cause)
		g.fence.Trip(cause)
	}
	lease, err := kube.Acquire(ctx, c, o)
	if err != nil {
		return err
	}
	defer func() {
		if err := lease.Release(context.WithoutCancel(ctx)); err != nil {
			g.log.Warn("release lease", "error", err)
		}
	}()
	go func() {
		select {
		case <-lease.AbortRequested():
			cancel(engine.ErrAbortRequested)
		case <-ctx.Done():
		}
	}()
	err = fn(ctx)
	if cause := lease.Cause(); cause != nil {
		return s.superseded(context.WithoutCancel(ctx), r, cause, err)
	}
	return err
}

// superseded journals a run that lost its Lease as failed (final: resume
// refuses it, rollback stays possible) and returns why it stopped.
func (s *session) superseded(ctx context.Context, r *journal.Run, cause, runErr error) error {
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
	r.UpdatedAt = s.g.clock.Now().UTC()
	if err := s.store.Save(ctx, r); err != nil {
		s.g.log.Warn("journal the run that lost its lease", "run", r.ID, "error", err)
	}
	if runErr != nil {
		s.g.log.Debug("run stopped after losing its lease", "run", r.ID, "error", runErr)
	}
	return fmt.Errorf("run %s %s: %w; it made no change after that. See who holds the app now with `bluegreen status`; "+
		"roll this run back with `bluegreen rollback` only once no other run is active", r.ID, step, cause)
}

// crashHook reads BLUEGREEN_TEST_CRASH_AT=step/phase and kills the process
// with SIGKILL exactly there. The crash-recovery tests use it to stop a run
// at every step boundary; it does nothing when unset.
func crashHook() func(string, engine.Phase) {
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

// ttyApprover asks on the terminal when stdin is one; nil otherwise.
func (g *Global) ttyApprover() service.Approver {
	f, ok := g.in.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return nil
	}
	return func(ctx context.Context, r *journal.Run) (bool, error) {
		fmt.Fprintf(g.err, "Switch production traffic of %s/%s now? Type yes to switch: ", r.Namespace, r.App)
		line, err := bufio.NewReader(f).ReadString('\n')
		if err != nil {
			return false, fmt.Errorf("read approval: %w", err)
		}
		return strings.TrimSpace(line) == "yes", nil
	}
}

// finish prints a run's outcome and turns engine sentinels into the CLI's
// messages.
func (s *session) finish(r *journal.Run, err error) error {
	switch {
	case errors.Is(err, engine.ErrPaused):
		s.g.printf("Paused before the switch. Continue with `bluegreen promote %s -n %s`, or stop with `bluegreen abort %s -n %s`.\n", r.App, r.Namespace, r.App, r.Namespace)
		err = nil
	case errors.Is(err, engine.ErrInterrupted):
		err = fmt.Errorf("%w; the run is journaled: continue with `bluegreen resume %s -n %s`", err, r.App, r.Namespace)
	}
	if s.g.Output == "json" {
		enc := json.NewEncoder(s.g.out)
		enc.SetIndent("", "  ")
		if jerr := enc.Encode(runView(r)); jerr != nil {
			return jerr
		}
	} else if err == nil {
		s.g.printf("Run %s %s.\n", r.ID, r.State)
	}
	return err
}

func (g *Global) printf(format string, a ...any) {
	if g.Output == "text" {
		fmt.Fprintf(g.out, format, a...)
	}
}
