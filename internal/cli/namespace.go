package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/bluegreen/bluegreen/internal/check"
	"github.com/bluegreen/bluegreen/internal/engine"
	"github.com/bluegreen/bluegreen/internal/journal"
	"github.com/bluegreen/bluegreen/internal/kube"
	"github.com/bluegreen/bluegreen/internal/nsscope"
	"github.com/bluegreen/bluegreen/internal/plan"
	"github.com/bluegreen/bluegreen/internal/run"
	"github.com/bluegreen/bluegreen/internal/runstore"
	"github.com/bluegreen/bluegreen/internal/service"
	"github.com/bluegreen/bluegreen/internal/traffic"
)

// nsFlags are the flags of the namespace verbs.
type nsFlags struct {
	file   string
	images []string
	yes    bool
	pause  bool
}

func (f *nsFlags) bindSpec(cmd *cobra.Command) {
	cmd.Flags().StringVarP(&f.file, "file", "f", "", "the product's release spec (kind: NamespaceRelease, YAML or JSON), see docs/namespace-scope.md")
}

func (f *nsFlags) bindRelease(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringArrayVar(&f.images, "image", nil, "SERVICE=IMAGE: the new image of a service, over the spec's (repeatable)")
	fl.BoolVarP(&f.yes, "yes", "y", false, "approve the switch up front")
	fl.BoolVar(&f.pause, "pause", false, "stop before the switch; namespace promote continues")
}

// release reads the spec strictly and applies the flags over it; a
// release to deploy must give at least one new image.
func (f *nsFlags) release(deploying bool) (plan.NamespaceRelease, error) {
	var rel plan.NamespaceRelease
	if f.file == "" {
		return rel, usageErr("-f/--file is required: the product's release spec (see docs/namespace-scope.md)")
	}
	if err := readSpecFile(f.file, "release spec", "docs/namespace-scope.md", &rel); err != nil {
		return rel, err
	}
	for _, kv := range f.images {
		name, image, ok := strings.Cut(kv, "=")
		i := indexOfService(rel.Services, name)
		if !ok || i < 0 {
			return rel, fmt.Errorf("%w: --image %q: want SERVICE=IMAGE with a service of the spec", plan.ErrInvalid, kv)
		}
		rel.Services[i].Image = image
	}
	switch {
	case f.yes && f.pause:
		return rel, usageErr("--yes and --pause contradict each other: pick one")
	case f.yes:
		rel.Approval = "auto"
	case f.pause:
		rel.Approval = "pause"
	}
	rel.Defaults()
	if deploying {
		return rel, rel.Validate()
	}
	return rel, rel.ValidateLayout()
}

func indexOfService(ss []plan.NamespaceService, name string) int {
	for i, s := range ss {
		if s.Name == name {
			return i
		}
	}
	return -1
}

// nsSession is one namespace command's view of the cluster, the gateways
// and the product's runs (in its blue namespace).
type nsSession struct {
	*session
	rel    plan.NamespaceRelease
	router traffic.Router
	name   string // the router's name
	target traffic.Target
	key    run.Key
}

func (g *Global) nsSession(ctx context.Context, f *nsFlags, deploying bool) (*nsSession, error) {
	defaults, err := check.DefaultsFromEnv(os.LookupEnv)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", plan.ErrInvalid, err)
	}
	rel, err := f.release(deploying)
	if err != nil {
		return nil, err
	}
	var head struct {
		Router string `json:"router"`
	}
	if err := json.Unmarshal(rel.Gateway, &head); err != nil || head.Router == "" {
		return nil, fmt.Errorf("%w: gateway.router: required, e.g. nginx", plan.ErrInvalid)
	}
	target, err := traffic.Namespace(head.Router, rel.Switch(), rel.Gateway)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", plan.ErrInvalid, err)
	}
	opts := g.clientOptions()
	opts.Namespace = rel.Namespaces[plan.Blue]
	c, err := kube.Connect(opts)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", plan.ErrInvalid, err)
	}
	id, err := c.Identify(ctx)
	if err != nil {
		return nil, err
	}
	deps := traffic.Deps{Kube: c.Kube, Config: c.Config, Clock: g.clock, Log: g.log}
	if hook := run.CrashHookFromEnv(); hook != nil {
		// BLUEGREEN_TEST_CRASH_AT=switch/gateway-<name>: killed between two gateways.
		deps.Crash = func(point string) { hook("switch", engine.Phase(point)) }
	}
	router, err := traffic.New(head.Router, deps)
	if err != nil {
		return nil, err
	}
	st := runstore.New(c.Records, opts.Namespace, id).AutoInstall(g.clock, c.Records)
	return &nsSession{session: &session{g: g, clients: c, store: st, checkDefaults: defaults},
		rel: rel, router: router, name: head.Router, target: target, key: run.ProductKey(opts.Namespace, rel.Product)}, nil
}

// nsStarting opens a session for a command that starts a new run: the
// product's last run must be finished.
func (g *Global) nsStarting(ctx context.Context, f *nsFlags, deploying bool) (*nsSession, error) {
	s, err := g.nsSession(ctx, f, deploying)
	if err != nil {
		return nil, err
	}
	if err := run.RefuseUnfinished(ctx, s.store, g.log, s.key, s.clients.Context, s.commands(f.file)); err != nil {
		return nil, err
	}
	return s, nil
}

// start prints the plan of a new run, runs it, keeps the newest
// --run-history finished runs, and prints the outcome.
// nsOpen opens the session of a command that starts a run, or, for a dry
// run, that only reads (no lock, no check for an unfinished run).
func (g *Global) nsOpen(ctx context.Context, f *nsFlags, deploying, dryRun bool) (*nsSession, error) {
	if dryRun {
		return g.nsSession(ctx, f, deploying)
	}
	return g.nsStarting(ctx, f, deploying)
}

// start runs r, or with dryRun prints its plan and changes nothing.
func (s *nsSession) start(ctx context.Context, r *journal.Run, file string, dryRun bool) error {
	if dryRun {
		return s.g.printPlan(r)
	}
	if !s.g.structured() { // one document: the outcome, which holds the steps
		if err := s.g.printPlan(r); err != nil {
			return err
		}
	}
	err := s.execute(ctx, r, func(ctx context.Context, e *engine.Engine) error { return e.Run(ctx, r) })
	s.pruneHistory(ctx, r.App)
	return s.finish(r, file, err)
}

func (s *nsSession) commands(file string) run.Commands {
	return func(v run.Verb) string { return fmt.Sprintf("bluegreen namespace %s -f %s", v, file) }
}

func (s *nsSession) plan(ctx context.Context) (*journal.Run, error) {
	obs, err := nsscope.Observe(ctx, s.clients.Kube, s.rel, s.router, s.target)
	if err != nil {
		return nil, err
	}
	return run.PlanNamespace(s.g.clock, s.clients.Context, obs, s.rel, s.name, s.target)
}

func (s *nsSession) execute(ctx context.Context, r *journal.Run, fn func(context.Context, *engine.Engine) error) error {
	acts := nsscope.Actions(nsscope.Deps{Router: s.router, Clock: s.g.clock, Service: service.Deps{
		Client: s.clients.Kube, Clock: s.g.clock, Log: s.g.log, CheckDefaults: s.checkDefaults,
		CheckOptions: []check.Option{check.WithLogger(s.g.log)}, Approver: s.g.ttyApprover(),
	}})
	return s.g.runner(ctx, s.store, s.clients.Lease, s.clients.Kube, r).Execute(ctx, r, acts, len(s.rel.Services), fn)
}

// serverDryRun has the API server admit every Kubernetes write of r and
// keep none. The gateways' switch is not sent: nginx gateways are files,
// and a Gateway API switch waits for its controller.
func (s *nsSession) serverDryRun(ctx context.Context, r *journal.Run) error {
	dry, err := s.clients.ServerDryRun()
	if err != nil {
		return err
	}
	router, err := traffic.New(s.name, traffic.Deps{Kube: dry.Kube, Config: dry.Config, Clock: s.g.clock, Log: s.g.log})
	if err != nil {
		return err
	}
	acts := nsscope.Actions(nsscope.Deps{Router: router, Clock: s.g.clock, Service: service.Deps{Client: dry.Kube, Clock: s.g.clock, Log: s.g.log}})
	return s.g.serverDryRun(ctx, r, s.clients.Context, acts)
}

// finish prints a namespace run's outcome.
func (s *nsSession) finish(r *journal.Run, file string, err error) error {
	switch {
	case errors.Is(err, engine.ErrPaused):
		s.g.printf("Paused before the switch. Continue with `bluegreen namespace promote -f %s`, or stop with `bluegreen namespace abort -f %s`.\n", file, file)
		err = nil
	case errors.Is(err, engine.ErrInterrupted):
		err = fmt.Errorf("%w; the run is recorded: continue with `bluegreen namespace resume -f %s`", err, file)
	case errors.Is(err, engine.ErrWaiting):
		s.g.printf("Switched. %s: any later command on the product carries it out (`bluegreen namespace resume -f %s`).\n", r.Reason, file)
		err = nil
	}
	return s.g.printOutcome(r, err)
}

func newNamespaceCmd(g *Global) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "namespace",
		Short: "Release a product's services between two namespaces behind nginx gateways",
		Long: `namespace runs the namespace scope from a spec file (kind: NamespaceRelease):
the product's services run in two namespaces, one per color, behind gateways
that send the production host to the active namespace and the preprod host to
the idle one. deploy rolls the idle namespace out, checks it, and switches
every gateway at once (all or none); rollback switches them back. Every step
is recorded in the blue namespace before it acts.`,
	}
	cmd.AddCommand(newNamespaceInitCmd(g), newNamespacePlanCmd(g), newNamespaceDeployCmd(g),
		newNamespaceVerbCmd(g, run.Promote, "Let a release paused before the switch switch the gateways"),
		newNamespaceVerbCmd(g, run.Rollback, "Switch every gateway back and undo the release, newest step first"),
		newNamespaceVerbCmd(g, run.Abort, "Stop a release that has not switched, and undo it"),
		newNamespaceVerbCmd(g, run.Resume, "Continue an interrupted release (or its rollback) from its record"),
		newNamespaceStatusCmd(g))
	return cmd
}

func newNamespaceInitCmd(g *Global) *cobra.Command {
	var f nsFlags
	var active string
	var dryRun bool
	cmd := &cobra.Command{
		Use:   "init -f SPEC",
		Short: "Adopt a product: create its services in the idle namespace, and bluegreen's file on every gateway",
		Long: `init adopts a product whose production runs in one namespace (--active): each
service missing in the other namespace is created there as it runs in the
active one, at 0 replicas, and every gateway gets bluegreen's file sending the
production host to the active namespace, as now, and the preprod host to the
other. If a file of yours serves the two hosts on the gateways today, name it
in gateway.adopt: it is emptied (a copy kept beside it) in the reload that
brings bluegreen's file in, so no request is dropped.`,
		Example: `  bluegreen namespace init -f payments.yaml --active blue --dry-run
  bluegreen namespace init -f payments.yaml --active blue`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			s, err := g.nsOpen(ctx, &f, false, dryRun)
			if err != nil {
				return err
			}
			obs, err := nsscope.ObserveDeployments(ctx, s.clients.Kube, s.rel)
			if err != nil {
				return err
			}
			r, err := run.PlanNamespaceInit(g.clock, s.clients.Context, obs, s.rel, plan.Color(active), s.name, s.target)
			if err != nil {
				return err
			}
			return s.start(ctx, r, f.file, dryRun)
		},
	}
	f.bindSpec(cmd)
	cmd.Flags().StringVar(&active, "active", "blue", "the color whose namespace serves production now")
	dryRunVar(cmd.Flags(), &dryRun, "print the steps and every change they would make, and make none", noServerInit)
	return cmd
}

func newNamespacePlanCmd(g *Global) *cobra.Command {
	var f nsFlags
	cmd := &cobra.Command{
		Use:     "plan -f SPEC",
		Short:   "Print every step and change a deploy would make, and change nothing",
		Example: `  bluegreen namespace plan -f payments.yaml --image payment=registry.example.com/payment:2.0.0`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := g.nsSession(cmd.Context(), &f, true)
			if err != nil {
				return err
			}
			r, err := s.plan(cmd.Context())
			if err != nil {
				return err
			}
			return g.printPlan(r)
		},
	}
	f.bindSpec(cmd)
	f.bindRelease(cmd)
	return cmd
}

func newNamespaceDeployCmd(g *Global) *cobra.Command {
	var f nsFlags
	var dryRun, server bool
	cmd := &cobra.Command{
		Use:   "deploy -f SPEC",
		Short: "Release the new images to the idle namespace, check it, and switch every gateway",
		Example: `  bluegreen namespace deploy -f payments.yaml --yes
  bluegreen namespace deploy -f payments.yaml --image payment=registry.example.com/payment:2.0.0 --pause
  bluegreen namespace deploy -f payments.yaml --image payment=registry.example.com/payment:2.0.0 --dry-run`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			s, err := g.nsOpen(ctx, &f, true, dryRun)
			if err != nil {
				return err
			}
			r, err := s.plan(ctx)
			if err != nil {
				return err
			}
			if server {
				return s.serverDryRun(ctx, r)
			}
			return s.start(ctx, r, f.file, dryRun)
		},
	}
	f.bindSpec(cmd)
	f.bindRelease(cmd)
	dryRunServerVar(cmd.Flags(), &dryRun, &server, "print the steps and every change they would make, and make none (same as namespace plan)")
	return cmd
}

func newNamespaceVerbCmd(g *Global, v run.Verb, short string) *cobra.Command {
	var f nsFlags
	cmd := &cobra.Command{
		Use:     string(v) + " -f SPEC",
		Short:   short,
		Example: fmt.Sprintf("  bluegreen namespace %s -f payments.yaml", v),
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			s, err := g.nsSession(ctx, &f, false)
			if err != nil {
				return err
			}
			if v == run.Abort {
				if asked, err := g.requestAbort(ctx, s.clients.Lease, s.key, "release"); asked || err != nil {
					return err
				}
			}
			r, err := run.Newest(ctx, s.store, s.clients.Lease, g.log, s.key, s.key.Filter(s.clients.Context))
			if err != nil {
				return err
			}
			if r == nil {
				return fmt.Errorf("%w: no run of product %s in namespace %s: deploy it first", plan.ErrInvalid, s.rel.Product, s.key.Namespace)
			}
			if err := run.Check(v, r, s.commands(f.file)); err != nil {
				return err
			}
			err = s.execute(ctx, r, func(ctx context.Context, e *engine.Engine) error { return run.Drive(ctx, e, v, r) })
			return s.finish(r, f.file, err)
		},
	}
	f.bindSpec(cmd)
	return cmd
}

func newNamespaceStatusCmd(g *Global) *cobra.Command {
	var f nsFlags
	var w watchFlags
	cmd := &cobra.Command{
		Use:   "status -f SPEC",
		Short: "Show where each gateway sends the product's hosts, and its last run",
		Example: `  bluegreen namespace status -f payments.yaml -o json
  bluegreen namespace status -f payments.yaml -w`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			if err := w.check(); err != nil {
				return err
			}
			s, err := g.nsSession(ctx, &f, false)
			if err != nil {
				return err
			}
			src := watchSource[productStatusView]{kind: "ProductStatus", name: s.rel.Product, read: s.status,
				render: g.writeProductStatus, line: productStatusLine}
			if w.on {
				return watch(ctx, g, w.every, src)
			}
			v, err := s.status(ctx)
			if err != nil {
				return err
			}
			if g.structured() {
				return g.emit(src.kind, src.name, v)
			}
			return g.writeProductStatus(g.out, v)
		},
	}
	f.bindSpec(cmd)
	w.bind(cmd)
	return cmd
}

// productStatusView is namespace status.
type productStatusView struct {
	Product    string         `json:"product"`
	Production traffic.Split  `json:"production,omitempty"`
	Gateways   string         `json:"gateways,omitempty"`
	LastRun    *runSummaryOut `json:"lastRun,omitempty"`
	// Current is what the last run does now, when it is not over.
	Current *currentView `json:"current,omitempty"`
}

// status reads where the gateways send production (a gateway that cannot
// be read is reported, not fatal) and the product's last run.
func (s *nsSession) status(ctx context.Context) (productStatusView, error) {
	split, serr := s.router.Observe(ctx, s.target)
	last, err := run.Newest(ctx, s.store, s.clients.Lease, s.g.log, s.key, s.key.Filter(s.clients.Context))
	if err != nil {
		return productStatusView{}, err
	}
	v := productStatusView{Product: s.rel.Product, Production: split}
	if serr != nil {
		v.Gateways = redactErr(serr)
	}
	if last != nil {
		v.LastRun = &runSummaryOut{ID: last.ID, State: string(last.State), Reason: redactText(last.Reason)}
		v.Current = current(last)
	}
	return v, nil
}

func (g *Global) writeProductStatus(out io.Writer, v productStatusView) error {
	fmt.Fprintf(out, "Product %s\n", v.Product)
	if v.Gateways != "" {
		fmt.Fprintf(out, "  gateways: %s\n", v.Gateways)
	} else {
		fmt.Fprintf(out, "  production: %s\n", v.Production)
	}
	if v.LastRun != nil {
		fmt.Fprintf(out, "  last run: %s %s %s\n", v.LastRun.ID, v.LastRun.State, v.LastRun.Reason)
	}
	if v.Current != nil {
		fmt.Fprintf(out, "  now: %s\n", v.Current.text(g.clock.Now()))
	}
	return nil
}

func productStatusLine(v productStatusView) string {
	l := "production=" + v.Production.String()
	if v.Gateways != "" {
		l = "gateways: " + v.Gateways
	}
	switch {
	case v.Current != nil:
		l += " | " + v.Current.lineText()
	case v.LastRun != nil:
		l += fmt.Sprintf(" | last run %s %s", v.LastRun.ID, v.LastRun.State)
	}
	return l
}

// runSummaryOut is a run in a namespace status.
type runSummaryOut struct {
	ID     string `json:"id"`
	State  string `json:"state"`
	Reason string `json:"reason,omitempty"`
}
