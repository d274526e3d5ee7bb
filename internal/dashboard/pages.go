package dashboard

import (
	"embed"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/util/duration"
)

// The pages are written by hand, every value escaped as it is written,
// rather than with html/template: text/template calls methods by name,
// which makes the linker keep every exported method of every type in the
// binary (it grew from 62 to 138 MB, and the controller's memory by a
// third).

//go:embed static
var static embed.FS

// fragmentHeader asks for a page's main part only: the page's script
// refreshes it in place with it.
const fragmentHeader = "X-Bluegreen-Fragment"

// page is what every page shows around its content.
type page struct {
	Title   string
	Context string
	Token   string
	// Refresh is the reload period in milliseconds (0: none).
	Refresh int64
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

// doc is an HTML document being written.
type doc struct{ strings.Builder }

// raw writes trusted markup.
func (d *doc) raw(s ...string) {
	for _, x := range s {
		_, _ = d.WriteString(x) // a strings.Builder never fails
	}
}

// text writes s escaped, for element content and quoted attributes.
func (d *doc) text(s string) { _, _ = d.WriteString(html.EscapeString(s)) }

// el writes <tag attrs>text</tag>, text escaped; attrs are trusted.
func (d *doc) el(tag, attrs, text string) {
	d.raw("<", tag, attrs, ">")
	d.text(text)
	d.raw("</", tag, ">")
}

// stateCell writes a table cell with a run's or a step's state.
func (d *doc) stateCell(state string) {
	d.raw("<td>")
	d.el("span", ` class="state `+html.EscapeString(state)+`"`, state)
	d.raw("</td>")
}

func (s *Server) page(title string) page {
	return page{Title: title, Context: s.cfg.Title, Token: s.token, Refresh: s.cfg.Refresh.Milliseconds()}
}

// render writes a page, or only its main part when the page's script
// asks for it.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, p page, main func(*doc)) {
	var d doc
	full := r.Header.Get(fragmentHeader) == ""
	if full {
		d.raw(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>`)
		d.text(p.Title)
		d.raw(` · bluegreen</title>
<link rel="stylesheet" href="/static/style.css">
<script src="/static/app.js" defer></script>
</head>
<body data-refresh="`, strconv.FormatInt(p.Refresh, 10), `">
<header>
  <a class="brand" href="/"><span class="dot blue"></span><span class="dot green"></span>bluegreen</a>
`)
		if p.Context != "" {
			d.el("span", ` class="context" title="kubeconfig context"`, p.Context)
		}
		d.raw("\n</header>\n<main>")
	}
	main(&d)
	if full {
		d.raw("</main>\n</body>\n</html>\n")
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(d.String()))
}

// fail shows an error page that says what went wrong.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, status int, err error) {
	if status >= http.StatusInternalServerError {
		s.cfg.Log.Warn("dashboard request failed", "path", r.URL.Path, "error", err)
	}
	p := s.page("Error")
	p.Refresh = 0
	s.render(w, r, status, p, func(d *doc) {
		d.el("h1", "", strconv.Itoa(status))
		d.el("p", ` class="error" id="error"`, err.Error())
		d.raw(`<p><a href="/">All apps</a></p>`)
	})
}

func appPath(ns, app string) string { return "/apps/" + url.PathEscape(ns) + "/" + url.PathEscape(app) }

func (s *Server) ago(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return duration.HumanDuration(s.cfg.Clock.Now().Sub(t)) + " ago"
}

func (s *Server) took(from, to time.Time) string {
	switch {
	case from.IsZero():
		return ""
	case to.IsZero():
		return "for " + duration.HumanDuration(s.cfg.Clock.Now().Sub(from))
	}
	return to.Sub(from).Round(time.Millisecond).String()
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// writeList is the list of apps.
func (s *Server) writeList(d *doc, apps []AppRow) {
	d.raw("<h1>Apps</h1>\n")
	if len(apps) == 0 {
		d.raw(`<p class="empty" id="no-apps">No app under bluegreen here: start with <code>bluegreen init APP</code>.</p>`)
		return
	}
	d.raw(`<table class="apps">
<thead><tr><th>Namespace</th><th>App</th><th>Scope</th><th>Active</th><th>Image</th><th>Last run</th><th>State</th><th>Updated</th></tr></thead>
<tbody>
`)
	for _, a := range apps {
		d.raw(`<tr class="app" data-app="`)
		d.text(a.Namespace + "/" + a.App)
		d.raw(`">`)
		d.el("td", "", a.Namespace)
		d.raw(`<td><a href="`)
		d.text(appPath(a.Namespace, a.App))
		d.raw(`">`)
		d.text(a.App)
		d.raw("</a></td>")
		d.el("td", "", a.Scope)
		if a.Active != "" {
			d.raw("<td>")
			d.el("span", ` class="badge `+html.EscapeString(a.Active)+`"`, a.Active)
			d.raw("</td>")
		} else {
			d.raw("<td>–</td>")
		}
		d.raw("<td>")
		d.el("code", "", a.Image)
		d.raw("</td>")
		d.el("td", "", a.Operation)
		d.stateCell(a.State)
		d.el("td", ` title="`+stamp(a.UpdatedAt)+`"`, s.ago(a.UpdatedAt))
		d.raw("</tr>\n")
	}
	d.raw("</tbody>\n</table>\n")
}

// writeApp is an app's page.
func (s *Server) writeApp(d *doc, p appPage) {
	a := p.App
	d.raw(`<p class="crumbs"><a href="/">Apps</a> / `)
	d.text(a.Namespace)
	d.raw("</p>\n<h1>")
	d.text(a.App)
	switch {
	case a.Active != "":
		d.raw(" ")
		d.el("span", ` id="active" class="badge `+html.EscapeString(a.Active)+`" title="the color production traffic goes to"`, a.Active+" active")
	case a.Scope == "service":
		d.raw(` <span id="active" class="badge none">no active color</span>`)
	}
	d.raw("</h1>\n")
	if act := p.Action; act != nil {
		class, how := "ended", "done"
		switch {
		case act.Stopped != "":
			how = act.Stopped
		case act.Running():
			class, how = "running", "in progress"
		case act.Err != "":
			class, how = "failed", "failed — "+act.Err
		}
		d.el("p", ` id="action" class="action `+class+`"`, fmt.Sprintf("%s from this dashboard, started %s: %s", act.Verb, s.ago(act.Started), how))
	}
	s.writeColors(d, a)
	if len(a.Services) > 0 {
		d.raw(`<ul class="services">`)
		for _, svc := range a.Services {
			d.raw("<li>Service ")
			d.el("code", "", svc.Name)
			d.raw(" selects ")
			d.el("code", "", svc.Selects)
			d.raw("</li>")
		}
		d.raw("</ul>\n")
	}
	if a.Rollback != "" {
		d.el("p", ` class="rollback-cost"`, "Rollback: "+a.Rollback)
	}
	s.writeButtons(d, p)
	if a.Run != nil {
		s.writeRun(d, a.Run)
	}
	s.writeRuns(d, a.Runs)
}

func (s *Server) writeColors(d *doc, a *App) {
	if len(a.Colors) == 0 {
		return
	}
	d.raw(`<section class="colors">`)
	for _, c := range a.Colors {
		class := "color " + c.Name
		if c.Name == a.Active {
			class += " live"
		}
		d.raw(`<div class="`)
		d.text(class)
		d.raw(`" data-color="`)
		d.text(c.Name)
		d.raw(`">`)
		d.el("h2", "", c.Name)
		if !c.Exists {
			d.raw(`<p class="missing">Deployment `)
			d.el("code", "", c.Deployment)
			d.raw(" is missing</p></div>")
			continue
		}
		d.raw(`<p class="image">`)
		d.el("code", "", c.Image)
		d.raw("</p>")
		d.el("p", ` class="ready"`, fmt.Sprintf("%d/%d ready", c.Ready, c.Desired))
		traffic := strconv.Itoa(c.Traffic)
		d.raw(`<p class="traffic"><meter min="0" max="100" value="`, traffic, `"></meter> <span class="share">`, traffic, `%</span> of traffic</p>`)
		d.raw(`<p class="deployment">Deployment `)
		d.el("code", "", c.Deployment)
		d.raw("</p></div>")
	}
	d.raw("</section>\n")
}

func (s *Server) writeButtons(d *doc, p appPage) {
	a := p.App
	d.raw(`<section class="buttons">`)
	for _, b := range p.Buttons {
		v := html.EscapeString(string(b.Verb))
		d.raw(`<form method="post" action="`)
		d.text(appPath(a.Namespace, a.App) + "/" + string(b.Verb))
		d.raw(`"><input type="hidden" name="token" value="`, p.Token, `">`)
		title := b.Why
		if b.Enabled {
			title = string(b.Verb) + " " + a.Namespace + "/" + a.App
		}
		d.raw(`<button type="submit" id="`, v, `" class="verb `, v, `" data-confirm="Press again to `, v, `" title="`)
		d.text(title)
		d.raw(`"`)
		if !b.Enabled {
			d.raw(" disabled")
		}
		d.raw(">")
		d.text(string(b.Verb))
		d.raw("</button>")
		if !b.Enabled {
			d.el("span", ` class="why" id="`+v+`-why"`, b.Why)
		}
		if b.Command != "" {
			d.raw(`<span class="cli">same as `)
			d.el("code", "", b.Command)
			d.raw("</span>")
		}
		d.raw("</form>")
	}
	d.raw("</section>\n")
}

func (s *Server) writeRun(d *doc, r *Run) {
	d.raw(`<section class="run"><h2>Run `)
	d.el("code", "", r.ID)
	d.raw(" · ")
	d.text(r.Operation)
	d.raw(" · ")
	d.el("span", ` class="state `+html.EscapeString(r.State)+`" id="run-state"`, r.State)
	d.raw("</h2>\n")
	if r.Reason != "" {
		d.el("p", ` class="reason"`, r.Reason)
	}
	d.raw(`<ol class="timeline" id="timeline">`)
	for _, st := range r.Steps {
		state := html.EscapeString(st.State)
		d.raw(`<li class="step `, state, `" data-state="`, state, `" data-step="`)
		d.text(st.Name)
		d.raw(`"><span class="mark"></span>`)
		d.el("span", ` class="name"`, st.Name)
		d.el("span", ` class="state"`, st.State)
		d.el("span", ` class="took"`, s.took(st.StartedAt, st.FinishedAt))
		d.el("div", ` class="description"`, st.Description)
		if st.Note != "" {
			d.el("div", ` class="note"`, st.Note)
		}
		if st.Error != "" {
			d.el("div", ` class="error"`, st.Error)
		}
		d.raw("</li>\n")
	}
	d.raw("</ol></section>\n")
}

func (s *Server) writeRuns(d *doc, runs []RunBrief) {
	if len(runs) == 0 {
		return
	}
	d.raw(`<section class="runs"><h2>Last runs</h2><table>
<thead><tr><th>Run</th><th>Operation</th><th>State</th><th>By</th><th>Updated</th><th></th></tr></thead><tbody>
`)
	for _, r := range runs {
		d.raw("<tr><td>")
		d.el("code", "", r.ID)
		d.raw("</td>")
		d.el("td", "", r.Operation)
		d.stateCell(r.State)
		d.el("td", "", r.Actor)
		d.el("td", ` title="`+stamp(r.UpdatedAt)+`"`, s.ago(r.UpdatedAt))
		d.el("td", "", r.Reason)
		d.raw("</tr>\n")
	}
	d.raw("</tbody></table></section>\n")
}
