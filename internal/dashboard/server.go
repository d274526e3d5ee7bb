package dashboard

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/bluegreen/bluegreen/internal/clock"
)

// listRefresh is the shortest refresh period of the list of apps.
const listRefresh = 10 * time.Second

// ErrNoApp is what Source.App returns for an app without runs.
var ErrNoApp = errors.New("no run of this app is recorded")

// Config is what a Server serves and how.
type Config struct {
	Source Source
	// Access decides which buttons the user may press; nil shows none
	// (a read-only view).
	Access *Access
	Clock  clock.Clock
	Log    *slog.Logger
	// Title names what the view shows, e.g. the kubeconfig context.
	Title string
	// Refresh is how often a page reloads its content (off when zero).
	Refresh time.Duration
}

// Server is the dashboard's HTTP side.
type Server struct {
	cfg Config
	// token is put in every form and required with every POST: a page of
	// another site cannot read it, so it cannot make the browser act.
	token string
	// hosts are the Host headers the server answers to (see guard).
	hosts map[string]bool

	base context.Context
	wg   sync.WaitGroup
	mu   sync.Mutex
	// acting holds the last action taken through this dashboard on each
	// app, while it runs and after it ends.
	acting map[string]*action
}

// action is a verb the dashboard carries out on an app.
type action struct {
	Verb    Verb
	Started time.Time
	Ended   time.Time
	Err     string
	// Stopped says why the dashboard stopped the action itself (a
	// rollback pressed while a promote watched the new color).
	Stopped string

	cancel context.CancelFunc
	done   chan struct{}
}

// Running reports whether the action has not ended.
func (a *action) Running() bool { return a.Ended.IsZero() }

// New returns a server for cfg.
func New(cfg Config) (*Server, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return nil, fmt.Errorf("make the dashboard's form token: %w", err)
	}
	return &Server{cfg: cfg, token: hex.EncodeToString(b), acting: map[string]*action{}}, nil
}

// CheckLoopback refuses a listen address that is not a loopback one: the
// dashboard acts with the credentials of whoever started it and has no
// login of its own.
func CheckLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("--listen %q is not host:port: %w", addr, err)
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("--listen %q is not a loopback address: the dashboard acts with your credentials and has no login of its own; "+
		"listen on 127.0.0.1 and reach it from another machine through `ssh -L 8765:127.0.0.1:8765 HOST`", addr)
}

// Serve answers on ln until ctx ends, then stops taking requests and waits
// until the actions in flight have stopped at a step boundary and recorded
// it, for at most grace.
func (s *Server) Serve(ctx context.Context, ln net.Listener, grace time.Duration) error {
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	s.hosts = map[string]bool{}
	for _, h := range []string{"127.0.0.1", "localhost", "[::1]"} {
		s.hosts[h+":"+port] = true
	}
	s.base = ctx
	srv := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	stop, cancel := context.WithTimeout(context.WithoutCancel(ctx), grace)
	defer cancel()
	_ = srv.Shutdown(stop)
	waited := make(chan struct{})
	go func() { s.wg.Wait(); close(waited) }()
	select {
	case <-waited:
		return nil
	case <-stop.Done():
		return fmt.Errorf("stop the dashboard: an action did not reach a step boundary within %s; `bluegreen resume` continues it", grace)
	}
}

// Handler is the dashboard's routes behind its guard.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.list)
	mux.HandleFunc("GET /apps/{ns}/{app}", s.app)
	mux.HandleFunc("POST /apps/{ns}/{app}/{verb}", s.act)
	mux.HandleFunc("GET /api/apps", s.listJSON)
	mux.HandleFunc("GET /api/apps/{ns}/{app}", s.appJSON)
	mux.Handle("GET /static/", http.FileServerFS(static))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) })
	return s.guard(mux)
}

// guard answers only to the dashboard's own host names (a page of another
// site that resolves its name to 127.0.0.1 gets nothing), forbids framing
// and foreign scripts, and lets a POST through only with the form token
// and, when the browser tells, from the dashboard's own pages.
func (s *Server) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.hosts != nil && !s.hosts[r.Host] {
			http.Error(w, fmt.Sprintf("host %q is not this dashboard's: open it as http://127.0.0.1:PORT/", r.Host), http.StatusMisdirectedRequest)
			return
		}
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; connect-src 'self'; "+
			"form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		h.Set("X-Frame-Options", "DENY")
		h.Set("X-Content-Type-Options", "nosniff")
		// same-origin: a form POST from the page carries its Origin (with
		// no-referrer browsers send "null"), other sites get no referrer.
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Cache-Control", "no-store")
		if r.Method == http.MethodPost {
			if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" {
				http.Error(w, "refused: the request came from another site ("+site+")", http.StatusForbidden)
				return
			}
			if o := r.Header.Get("Origin"); o != "" && o != "http://"+r.Host {
				http.Error(w, "refused: the request came from "+o, http.StatusForbidden)
				return
			}
			if subtle.ConstantTimeCompare([]byte(r.PostFormValue("token")), []byte(s.token)) != 1 {
				http.Error(w, "refused: the form's token is missing or stale; reload the page and press the button again", http.StatusForbidden)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

func (s *Server) list(w http.ResponseWriter, r *http.Request) {
	rows, err := s.cfg.Source.Apps(r.Context())
	if err != nil {
		s.fail(w, r, http.StatusBadGateway, err)
		return
	}
	p := s.page("Apps")
	if p.Refresh > 0 {
		// The list reads two objects an app: with hundreds of apps, a
		// refresh every few seconds would be hundreds of requests a
		// second.
		p.Refresh = max(p.Refresh, listRefresh.Milliseconds())
	}
	s.render(w, r, http.StatusOK, p, func(d *doc) { s.writeList(d, rows) })
}

func (s *Server) listJSON(w http.ResponseWriter, r *http.Request) {
	rows, err := s.cfg.Source.Apps(r.Context())
	if err != nil {
		writeJSON(w, http.StatusBadGateway, map[string]string{"error": err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, rows)
}

func (s *Server) app(w http.ResponseWriter, r *http.Request) {
	p, status, err := s.appPage(r.Context(), r.PathValue("ns"), r.PathValue("app"))
	if err != nil {
		s.fail(w, r, status, err)
		return
	}
	s.render(w, r, http.StatusOK, p.page, func(d *doc) { s.writeApp(d, p) })
}

func (s *Server) appJSON(w http.ResponseWriter, r *http.Request) {
	p, status, err := s.appPage(r.Context(), r.PathValue("ns"), r.PathValue("app"))
	if err != nil {
		writeJSON(w, status, map[string]string{"error": err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, p.App)
}

// appPage reads an app and decides its buttons.
func (s *Server) appPage(ctx context.Context, ns, name string) (appPage, int, error) {
	if len(validation.IsDNS1123Label(ns)) > 0 || len(validation.IsDNS1123Subdomain(name)) > 0 {
		return appPage{}, http.StatusNotFound, fmt.Errorf("%q/%q: %w: not a namespace and an app name", ns, name, ErrNoApp)
	}
	a, err := s.cfg.Source.App(ctx, ns, name)
	if errors.Is(err, ErrNoApp) {
		return appPage{}, http.StatusNotFound, err
	}
	if err != nil {
		return appPage{}, http.StatusBadGateway, err
	}
	p := appPage{page: s.page(a.App), App: a, Action: s.lastAction(ns, name)}
	for _, v := range Verbs {
		b := button{Verb: v, Command: a.Command[v]}
		switch {
		case s.cfg.Access == nil:
			b.Why = "this dashboard is read-only"
		case a.Refused[v] != "":
			b.Why = a.Refused[v]
		case p.Action != nil && p.Action.Running() && !preempts(v, p.Action.Verb):
			b.Why = fmt.Sprintf("a %s from this dashboard is in progress", p.Action.Verb)
		default:
			missing, err := s.cfg.Access.Missing(ctx, ns, v)
			switch {
			case err != nil:
				b.Why = err.Error()
			case missing != "":
				b.Why = fmt.Sprintf("your credentials may not %s in namespace %s (RBAC)", missing, ns)
			default:
				b.Enabled = true
			}
		}
		p.Buttons = append(p.Buttons, b)
	}
	return p, http.StatusOK, nil
}

// act takes a verb on an app when its page would enable the button, in
// the background: the run goes on when the browser leaves.
func (s *Server) act(w http.ResponseWriter, r *http.Request) {
	ns, name, v := r.PathValue("ns"), r.PathValue("app"), Verb(r.PathValue("verb"))
	if _, ok := Rights[v]; !ok {
		s.fail(w, r, http.StatusNotFound, fmt.Errorf("no action %q: the dashboard can promote and rollback", v))
		return
	}
	p, status, err := s.appPage(r.Context(), ns, name)
	if err != nil {
		s.fail(w, r, status, err)
		return
	}
	for _, b := range p.Buttons {
		if b.Verb == v && !b.Enabled {
			status := http.StatusConflict
			if s.cfg.Access == nil || (p.App.Refused[v] == "" && (p.Action == nil || !p.Action.Running())) {
				status = http.StatusForbidden
			}
			s.fail(w, r, status, fmt.Errorf("%s of %s/%s refused, nothing changed: %s", v, ns, name, b.Why))
			return
		}
	}
	key := ns + "/" + name
	base := s.base
	if base == nil {
		base = context.Background()
	}
	ctx, cancel := context.WithCancel(base)
	a := &action{Verb: v, Started: s.cfg.Clock.Now(), cancel: cancel, done: make(chan struct{})}
	s.mu.Lock()
	cur := s.acting[key]
	if cur != nil && cur.Running() && !preempts(v, cur.Verb) {
		s.mu.Unlock()
		cancel()
		s.fail(w, r, http.StatusConflict, fmt.Errorf("%s of %s refused: a %s from this dashboard is in progress", v, key, cur.Verb))
		return
	}
	if cur != nil && cur.Running() {
		cur.Stopped = fmt.Sprintf("stopped at a step boundary for the %s pressed %s", v, s.ago(a.Started))
		cur.cancel()
	}
	s.acting[key] = a
	s.mu.Unlock()
	s.cfg.Log.Info("dashboard action", "verb", v, "namespace", ns, "release", name)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer close(a.done)
		defer cancel()
		if cur != nil {
			<-cur.done // the run it stops is journaled and its Lease free
		}
		err := s.cfg.Source.Do(ctx, ns, name, v)
		s.mu.Lock()
		a.Ended = s.cfg.Clock.Now()
		if err != nil && a.Stopped == "" {
			a.Err = err.Error()
		}
		s.mu.Unlock()
		s.cfg.Log.Info("dashboard action ended", "verb", v, "namespace", ns, "release", name, "error", err)
	}()
	http.Redirect(w, r, appPath(ns, name), http.StatusSeeOther) //nolint:gosec // a path of this server, see above
}

// preempts reports whether verb v, pressed while an action of verb cur
// runs on the same app, stops that action and goes ahead: a rollback is
// never held up by the promote whose new color it undoes (the promote may
// watch it for many minutes).
func preempts(v, cur Verb) bool { return v == Rollback && cur != Rollback }

func (s *Server) lastAction(ns, name string) *action {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a := s.acting[ns+"/"+name]; a != nil {
		c := *a
		return &c
	}
	return nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}
