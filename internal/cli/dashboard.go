package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/bluegreen/bluegreen/internal/dashboard"
	"github.com/bluegreen/bluegreen/internal/journal"
	"github.com/bluegreen/bluegreen/internal/kube"
	"github.com/bluegreen/bluegreen/internal/plan"
	"github.com/bluegreen/bluegreen/internal/run"
	"github.com/bluegreen/bluegreen/internal/runstore"
)

type dashboardFlags struct {
	listen        string
	all, readOnly bool
	refresh       time.Duration
	shutdownGrace time.Duration
}

func newDashboardCmd(g *Global) *cobra.Command {
	var o dashboardFlags
	cmd := &cobra.Command{
		Use:   "dashboard",
		Short: "Serve a web view of the apps: colors, traffic, step timeline, last runs, promote and rollback",
		Long: `dashboard serves, on this machine only, a web page of the apps under bluegreen
in the namespace (or every namespace with -A): each color's image, readiness
and share of traffic, the newest run's steps as they happen, the last runs.

Its promote and rollback buttons do what the commands do, with your
credentials, through the same run records and Lease; a button is enabled
only when the run can take the verb and the API server's access review
says your credentials may make its writes. The run an action starts goes
on when the browser leaves; stopping the dashboard stops it at its next
step boundary, recorded, for ` + "`bluegreen resume`" + ` to continue.`,
		Example: `  bluegreen dashboard -n prod
  bluegreen dashboard -A --listen 127.0.0.1:9000
  bluegreen dashboard -n prod --read-only

  # From another machine, through SSH:
  ssh -L 8765:127.0.0.1:8765 bastion bluegreen dashboard -n prod`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return g.dashboard(cmd.Context(), o) },
	}
	fl := cmd.Flags()
	fl.StringVar(&o.listen, "listen", "127.0.0.1:8765", "loopback address and port to serve on (port 0 picks a free one)")
	fl.BoolVarP(&o.all, "all-namespaces", "A", false, "show the apps of every namespace")
	fl.BoolVar(&o.readOnly, "read-only", false, "show no buttons that act")
	fl.DurationVar(&o.refresh, "refresh", 2*time.Second, "how often an open page refreshes its content (0 turns it off)")
	fl.DurationVar(&o.shutdownGrace, "shutdown-grace", 30*time.Second, "how long a stop waits for actions in flight to reach a step boundary and record it")
	return cmd
}

func (g *Global) dashboard(ctx context.Context, o dashboardFlags) error {
	if err := dashboard.CheckLoopback(o.listen); err != nil {
		return usageErr("%s", err)
	}
	if o.refresh < 0 || (o.refresh > 0 && o.refresh < 500*time.Millisecond) {
		return usageErr("--refresh %s: use 0 (off) or at least 500ms", o.refresh)
	}
	c, err := g.connect(ctx)
	if err != nil {
		return err
	}
	id, err := c.Identify(ctx)
	if err != nil {
		return err
	}
	src := &dashSource{g: g, c: c, id: id, ns: c.Namespace}
	title := c.Context + " · namespace " + c.Namespace
	if o.all {
		src.ns, title = "", c.Context+" · every namespace"
	}
	cfg := dashboard.Config{Source: src, Clock: g.clock, Log: g.log, Title: title, Refresh: o.refresh}
	if !o.readOnly {
		cfg.Access = &dashboard.Access{Kube: c.Kube, Clock: g.clock}
	}
	srv, err := dashboard.New(cfg)
	if err != nil {
		return err
	}
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", o.listen)
	if err != nil {
		return fmt.Errorf("%w: listen on %s: %w (pick another port with --listen)", plan.ErrInvalid, o.listen, err)
	}
	fmt.Fprintf(g.out, "Serving the dashboard of %s on http://%s/ (Ctrl-C stops it)\n", title, ln.Addr())
	return srv.Serve(ctx, ln, o.shutdownGrace)
}

// dashSource reads apps and acts on them for the dashboard, as the
// commands do.
type dashSource struct {
	g  *Global
	c  *kube.Clients
	id string
	// ns is the namespace shown; empty for every namespace.
	ns string
}

func (s *dashSource) Apps(ctx context.Context) ([]dashboard.AppRow, error) {
	items, err := latestItems(ctx, s.c, s.id, s.ns)
	if err != nil {
		return nil, err
	}
	rows := make([]dashboard.AppRow, 0, len(items))
	for _, it := range items {
		rows = append(rows, dashboard.AppRow{Namespace: it.Namespace, App: it.App, Scope: it.Scope, Active: string(it.Active), Image: it.Image,
			Operation: it.LastRun.Operation, State: it.LastRun.State, UpdatedAt: it.LastRun.UpdatedAt})
	}
	return rows, nil
}

// App reads the app's runs sealed: the page needs no right to read
// Secrets and shows no value kept in one.
func (s *dashSource) App(ctx context.Context, ns, app string) (*dashboard.App, error) {
	if s.ns != "" && ns != s.ns {
		return nil, fmt.Errorf("%s/%s: %w in namespace %s, the one this dashboard shows (start it with -n %s, or -A)", ns, app, dashboard.ErrNoApp, s.ns, ns)
	}
	store := runstore.New(s.c.Records, ns, s.id).Sealed()
	runs, err := run.Runs(ctx, store, s.g.log, journal.Filter{App: app, Limit: 5})
	if err != nil {
		return nil, err
	}
	if len(runs) == 0 {
		return nil, fmt.Errorf("%s/%s: %w in the cluster of context %s", ns, app, dashboard.ErrNoApp, s.c.Context)
	}
	last := runs[0]
	out := &dashboard.App{Namespace: ns, App: app, Scope: string(last.Scope), Refused: map[dashboard.Verb]string{}, Command: map[dashboard.Verb]string{}}
	if last.Scope == journal.ScopeService {
		var rel plan.ServiceRelease
		_ = json.Unmarshal(last.Spec, &rel)
		rel.App = app
		rel.Defaults()
		// Of the newest runs of every scope, the service scope's.
		runs = slices.DeleteFunc(runs, func(r *journal.Run) bool { return r.Scope != journal.ScopeService })
		st, err := run.ServiceStatusOf(ctx, s.c.Kube, ns, rel, runs)
		if err != nil {
			return nil, err
		}
		fillStatus(out, st)
	}
	for _, r := range runs {
		out.Runs = append(out.Runs, brief(r))
	}
	out.Run = &dashboard.Run{RunBrief: brief(last)}
	for _, st := range last.Steps {
		note := st.Note
		if st.Kept != "" {
			note = "kept: " + st.Kept
		}
		out.Run.Steps = append(out.Run.Steps, dashboard.Step{Name: st.Name, Description: redactText(st.Description), State: string(st.State),
			StartedAt: st.StartedAt, FinishedAt: st.FinishedAt, Error: redactText(st.Error), Note: redactText(note)})
	}
	cmds := serviceCommands(app, ns)
	for _, v := range dashboard.Verbs {
		out.Command[v] = cmds(run.Verb(v))
		if last.Scope != journal.ScopeService {
			out.Refused[v] = fmt.Sprintf("the dashboard acts on service-scope apps; this is a %s-scope run: use the bluegreen %s commands", last.Scope, last.Scope)
			delete(out.Command, v)
			continue
		}
		view := *last
		if err := run.Check(run.Verb(v), &view, cmds); err != nil {
			out.Refused[v] = strings.TrimPrefix(err.Error(), plan.ErrInvalid.Error()+": ")
		}
	}
	return out, nil
}

func fillStatus(out *dashboard.App, st run.AppStatus) {
	out.Active = string(st.Active)
	for _, c := range []plan.Color{plan.Blue, plan.Green} {
		cs := st.Colors[c]
		if cs == nil {
			continue
		}
		out.Colors = append(out.Colors, dashboard.Color{Name: string(c), Deployment: cs.Deployment, Exists: cs.Exists, Image: cs.Image,
			Ready: cs.Ready, Desired: cs.Desired, Traffic: cs.Traffic})
	}
	for _, name := range slices.Sorted(maps.Keys(st.Services)) {
		out.Services = append(out.Services, dashboard.Service{Name: name, Selects: labels.Set(st.Services[name]).String()})
	}
	if rc := st.Rollback; rc != nil {
		out.Rollback = rc.Text()
	}
}

func brief(r *journal.Run) dashboard.RunBrief {
	return dashboard.RunBrief{ID: r.ID, Operation: r.Operation, State: string(r.State), Reason: redactText(r.Reason), Actor: r.Actor, UpdatedAt: r.UpdatedAt}
}

// Do runs the verb as `bluegreen VERB APP -n NS` would, with a fence of
// its own: an action that loses its Lease stops only itself.
func (s *dashSource) Do(ctx context.Context, ns, app string, v dashboard.Verb) error {
	if s.ns != "" && ns != s.ns {
		return fmt.Errorf("%s/%s is not in namespace %s, the one this dashboard shows", ns, app, s.ns)
	}
	a := s.g.actingIn(ns)
	err := a.continueRun(ctx, app, run.Verb(v), false)
	if errors.Is(err, plan.ErrInvalid) {
		return fmt.Errorf("%s refused, nothing changed: %w", v, err)
	}
	return err
}

// actingIn is a copy of g for one action in namespace ns: its own fence,
// no terminal to print to or to ask on (the logger still logs).
func (g *Global) actingIn(ns string) *Global {
	a := *g
	a.Output, a.in, a.out, a.err = "text", strings.NewReader(""), io.Discard, io.Discard
	a.fence, a.progress = &kube.Fence{}, progressLines{}
	a.Kube.Context.Namespace = ns
	return &a
}
