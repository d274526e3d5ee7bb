package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"

	"golang.org/x/term"
	"k8s.io/client-go/kubernetes"

	"github.com/bluegreen/bluegreen/internal/check"
	"github.com/bluegreen/bluegreen/internal/engine"
	"github.com/bluegreen/bluegreen/internal/journal"
	"github.com/bluegreen/bluegreen/internal/kube"
	"github.com/bluegreen/bluegreen/internal/plan"
	"github.com/bluegreen/bluegreen/internal/run"
	"github.com/bluegreen/bluegreen/internal/runstore"
	"github.com/bluegreen/bluegreen/internal/service"
	"github.com/bluegreen/bluegreen/internal/traffic"
)

// session is one command's connection to a cluster and the journal.
type session struct {
	g             *Global
	clients       *kube.Clients
	store         journal.Store
	checkDefaults check.Defaults
	// identity is the cluster's identity, read once.
	identity func() (string, error)
}

func (g *Global) session(ctx context.Context) (*session, error) {
	s, err := g.sessionReadingRuns(ctx)
	if err != nil {
		return nil, err
	}
	// Fail here, naming the cluster, when it cannot be reached.
	if _, err := s.identity(); err != nil {
		return nil, err
	}
	return s, nil
}

// sessionReadingRuns is session for a command whose first call reads the
// app's runs: the cluster's identity is read at the same time, and an
// unreachable cluster is reported by that read.
func (g *Global) sessionReadingRuns(ctx context.Context) (*session, error) {
	// Read before anything else, so a bad HEALTH_CHECK_* value fails
	// before the first write.
	defaults, err := check.DefaultsFromEnv(os.LookupEnv)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", plan.ErrInvalid, err)
	}
	c, err := kube.Connect(g.clientOptions())
	if err != nil {
		return nil, fmt.Errorf("%w: %w", plan.ErrInvalid, err)
	}
	// Runs live in the app's namespace, keyed by the cluster's identity;
	// the CRD is installed with the first run if it is missing and the
	// user may. The identity is read while the command reads its run: it
	// is the first call, and stands in for a ping.
	id := sync.OnceValues(func() (string, error) { return c.Identify(ctx) })
	go func() { _, _ = id() }()
	st := runstore.Identifying(c.Records, c.Namespace, id).AutoInstall(g.clock, c.Records)
	return &session{g: g, clients: c, store: st, checkDefaults: defaults, identity: id}, nil
}

// runner is the run package's Runner for this command: the journal, the
// Lease through lease (a client outside the fence), the sinks, and the
// live view.
func (g *Global) runner(ctx context.Context, st journal.Store, lease, events kubernetes.Interface, r *journal.Run) *run.Runner {
	secrets := run.Secrets(r, g.notifyURLs()...)
	return &run.Runner{
		Store: st, Lease: lease, LeaseDuration: g.LeaseDuration, Fence: g.fence, Clock: g.clock, Log: g.log,
		Sinks: run.Sinks{
			AuditPath: g.auditPath(), Events: events, Secrets: secrets,
			Notifiers: g.notifiers(ctx, secrets), NotifyTimeout: g.NotifyTimeout,
			Extra: []func(engine.Event){g.liveView},
		},
		CrashAt: run.CrashHookFromEnv(),
	}
}

// execute runs fn with the app's Lease held and an engine over the
// service scope's actions; see run.Runner.Execute.
func (s *session) execute(ctx context.Context, r *journal.Run, approver service.Approver, fn func(context.Context, *engine.Engine) error) error {
	router, err := traffic.NewService(traffic.Deps{Kube: s.clients.Kube, Clock: s.g.clock})
	if err != nil {
		return err
	}
	acts := run.ServiceActions(r, service.Deps{
		Client: s.clients.Kube, Router: router, Clock: s.g.clock, Log: s.g.log,
		CheckDefaults: s.checkDefaults, CheckOptions: []check.Option{check.WithLogger(s.g.log)}, Approver: approver,
	})
	return s.g.runner(ctx, s.store, s.clients.Lease, s.clients.Kube, r).Execute(ctx, r, acts, 0, fn)
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
	case errors.Is(err, engine.ErrWaiting):
		s.g.printf("Switched. %s: no process waits for it; any bluegreen command on %s after that time does it (`bluegreen resume %s -n %s`), and a rollback meanwhile is instant.\n",
			r.Reason, r.App, r.App, r.Namespace)
		err = nil
	}
	return s.g.printOutcome(r, err)
}

// printOutcome prints a run as JSON, or its outcome line when it ended
// without error; it returns err.
func (g *Global) printOutcome(r *journal.Run, err error) error {
	if g.structured() {
		if jerr := g.emit("Run", r.ID, runView(r)); jerr != nil {
			return jerr
		}
	} else if err == nil {
		g.printf("Run %s %s.\n", r.ID, r.State)
	}
	return err
}

func (g *Global) printf(format string, a ...any) {
	if g.Output == "text" {
		fmt.Fprintf(g.out, format, a...)
	}
}
