package dashboard

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"time"

	"k8s.io/apimachinery/pkg/util/duration"

	"github.com/bluegreen/bluegreen/internal/clock"
)

//go:embed web/*.html
var templates embed.FS

//go:embed static
var static embed.FS

// fragmentHeader asks for a page's main part only: the page's script
// refreshes it in place with it.
const fragmentHeader = "X-Bluegreen-Fragment"

// pages are the parsed templates, one set per page.
type pages map[string]*template.Template

func parsePages(clk clock.Clock) (pages, error) {
	funcs := template.FuncMap{
		"ago": func(t time.Time) string {
			if t.IsZero() {
				return ""
			}
			return duration.HumanDuration(clk.Now().Sub(t)) + " ago"
		},
		"took": func(from, to time.Time) string {
			switch {
			case from.IsZero():
				return ""
			case to.IsZero():
				return "for " + duration.HumanDuration(clk.Now().Sub(from))
			}
			return to.Sub(from).Round(time.Millisecond).String()
		},
		"stamp": func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	}
	out := pages{}
	for _, name := range []string{"list", "app", "error"} {
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(templates, "web/layout.html", "web/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("parse the %s page: %w", name, err)
		}
		out[name] = t
	}
	if _, err := fs.Stat(static, "static/app.js"); err != nil {
		return nil, err
	}
	return out, nil
}

// page is what every page shows around its content.
type page struct {
	Title   string
	Context string
	Token   string
	// Refresh is the reload period in milliseconds (0: none).
	Refresh int64
}

type listPage struct {
	page
	Apps []AppRow
}

type appPage struct {
	page
	App     *App
	Buttons []button
	Action  *action
}

// button is a verb's button: enabled, or why not.
type button struct {
	Verb    Verb
	Enabled bool
	Why     string
	Command string
}

type errorPage struct {
	page
	Status int
	Err    string
}

func (s *Server) page(title string) page {
	return page{Title: title, Context: s.cfg.Title, Token: s.token, Refresh: s.cfg.Refresh.Milliseconds()}
}

// render writes a page, or only its main part when the page's script
// asks for it.
func (s *Server) render(w http.ResponseWriter, r *http.Request, name string, data any) {
	s.renderStatus(w, r, http.StatusOK, name, data)
}

func (s *Server) renderStatus(w http.ResponseWriter, r *http.Request, status int, name string, data any) {
	tmpl := "layout.html"
	if r.Header.Get(fragmentHeader) != "" {
		tmpl = "main"
	}
	var b bytes.Buffer
	if err := s.pages[name].ExecuteTemplate(&b, tmpl, data); err != nil {
		s.cfg.Log.Error("render a dashboard page", "page", name, "error", err)
		http.Error(w, "render the page: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b.Bytes())
}

// fail shows an error page that says what went wrong.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, status int, err error) {
	if status >= http.StatusInternalServerError {
		s.cfg.Log.Warn("dashboard request failed", "path", r.URL.Path, "error", err)
	}
	p := errorPage{page: s.page("Error"), Status: status, Err: err.Error()}
	p.Refresh = 0
	s.renderStatus(w, r, status, "error", p)
}
