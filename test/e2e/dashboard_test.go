package e2e

import (
	"bytes"
	"context"
	"fmt"
	"image/color"
	"image/png"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/bluegreen/bluegreen/internal/journal"
)

// A release paused before its switch shows in the dashboard with its
// colors, its step timeline and its buttons, with no secret of the
// release on the page. Someone who may only read sees the buttons
// disabled, RBAC named as the reason, and a forced request changes
// nothing; a releaser promotes and rolls back with two presses each, and
// the cluster follows.
func TestDashboardShowsAndActsUnderTheUsersRights(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.applyShippedRBAC()
	hooks := newHealthServer(t)

	// Given a release with secrets in its spec, paused before the switch
	e.givenBlueGreenApp("shop", v1, 2)
	spec := filepath.Join(t.TempDir(), "release.yaml")
	body := "apiVersion: bluegreen.io/v1alpha1\nkind: ServiceRelease\napp: shop\nimage: " + v2 + "\n" +
		"env: {API_TOKEN: \"Zq8secretEnvValue77\"}\n" +
		"checks:\n- name: qa-gate\n  webhook: {url: \"" + hooks.URL + secretPath + "/check\"}\n"
	if err := os.WriteFile(spec, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	e.mustCLI("deploy", "-f", spec, "--pause", "--watch-window", "30m")
	secrets := []string{"Zq8secretEnvValue77", "Zq8secretWebhookToken42"}

	// When someone who may only read opens the dashboard
	watcher := e.serviceAccount("watcher", "bluegreen-view")
	view := startDashboard(t, watcher.kubeconfig, e.ns)
	b := newBrowser(t)
	b.do("open the watcher's list", chromedp.Navigate(view.url+"/"),
		chromedp.WaitVisible(chromedp.CSS(`tr.app[data-app="`+e.ns+`/shop"]`)))
	row := b.text(`tr.app[data-app="` + e.ns + `/shop"]`)
	if !strings.Contains(row, "paused") || !strings.Contains(row, "blue") || !strings.Contains(row, v1) {
		t.Fatalf("the list's row of shop reads %q; want it paused, blue active with %s", row, v1)
	}
	b.do("open shop's page", chromedp.Click(chromedp.CSS(`tr.app a`)), chromedp.WaitVisible(chromedp.CSS(`#timeline`)))

	// Then it shows the colors, the run paused at its gate, and the
	// buttons disabled for lack of rights
	if got := b.text("#active"); !strings.Contains(got, "blue") {
		t.Fatalf("active color on the page: %q, want blue", got)
	}
	if got := b.text(`.color.green .image`); got != v2 {
		t.Fatalf("green's image on the page: %q, want %s", got, v2)
	}
	if got := b.text("#run-state"); got != "paused" {
		t.Fatalf("run state on the page: %q, want paused", got)
	}
	if n := b.count(`#timeline li.step`); n < 4 {
		t.Fatalf("the timeline lists %d steps; want the whole plan", n)
	}
	for _, v := range []string{"promote", "rollback"} {
		if !b.disabled("#" + v) {
			t.Fatalf("the %s button is enabled for someone who may only read", v)
		}
		if why := b.text("#" + v + "-why"); !strings.Contains(why, "may not") || !strings.Contains(why, "patch services") {
			t.Fatalf("why %s is disabled: %q; want the missing rights named", v, why)
		}
	}
	html := b.html()
	for _, s := range secrets {
		if strings.Contains(html, s) {
			t.Fatalf("the page shows the secret %q", s)
		}
	}
	b.screenshot("dashboard-watcher.png")

	// When the watcher's browser sends a promote anyway
	status, answer := b.post(fmt.Sprintf("/apps/%s/shop/promote", e.ns))

	// Then it is refused and nothing changed
	if status != http.StatusForbidden || !strings.Contains(answer, "nothing changed") {
		t.Fatalf("a promote from the watcher's page: %d %q; want 403 naming that nothing changed", status, answer)
	}
	if s := e.state("shop"); s.ActiveSelects != "blue" {
		t.Fatalf("after the refused promote: %+v", s)
	}

	// And a request from outside the page is refused too
	assertGuarded(t, view.url, e.ns)

	// When a releaser opens the dashboard and presses promote twice
	admin := startDashboard(t, cluster.Kubeconfig, e.ns)
	b.do("open shop's page as a releaser", chromedp.Navigate(admin.url+"/apps/"+e.ns+"/shop"), chromedp.WaitVisible(chromedp.CSS(`#timeline`)))
	if b.disabled("#promote") || b.disabled("#rollback") {
		t.Fatalf("the buttons are disabled for a releaser: %s", b.text(".buttons"))
	}
	shot := b.screenshot("dashboard-paused.png")
	assertRendered(t, shot)
	b.do("press promote", chromedp.Click(chromedp.CSS("#promote")))
	if got := b.textNow("#promote"); !strings.Contains(got, "again") {
		t.Fatalf("after one press the promote button reads %q; want it to ask for a second", got)
	}
	if s := e.state("shop"); s.ActiveSelects != "blue" {
		t.Fatalf("one press switched: %+v", s)
	}
	b.do("press promote again", chromedp.Click(chromedp.CSS("#promote")))

	// Then production switches to green and the page follows, while the
	// promote watches the new color for its window
	b.waitFor("the page to show green active", `span#active.green`)
	if s := e.state("shop"); s.ActiveSelects != "green" || s.GreenImage != v2 {
		t.Fatalf("after promote from the dashboard: %+v", s)
	}
	e.eventually("the page to show the promote watching", func() bool {
		return strings.Contains(b.textNow("#action"), "in progress") && strings.Contains(b.textNow(`li.step[data-state="started"]`), "watch")
	})
	b.screenshot("dashboard-promoted.png")

	// When the releaser rolls back during the watch window
	b.waitFor("the rollback button to be enabled", `#rollback:not([disabled])`)
	b.do("press rollback twice", chromedp.Click(chromedp.CSS("#rollback")), chromedp.Click(chromedp.CSS("#rollback")))

	// Then production is back on blue, the record says who did what, and
	// no secret reached the page or the JSON
	b.waitFor("the page to show blue active", `span#active.blue`)
	e.eventually("the run to be rolled back", func() bool { return b.textNow("#run-state") == "rolled-back" })
	if s := e.state("shop"); s.ActiveSelects != "blue" {
		t.Fatalf("after rollback from the dashboard: %+v", s)
	}
	runs, err := e.runs().List(t.Context(), journal.Filter{App: "shop"})
	if err != nil || len(runs) != 1 {
		t.Fatalf("records: %v, %d runs", err, len(runs))
	}
	var verbs []string
	for _, a := range runs[0].History {
		verbs = append(verbs, a.Verb)
	}
	if got := strings.Join(verbs, ","); got != "deploy,promote,rollback" {
		t.Fatalf("the record's history: %s; want deploy,promote,rollback", got)
	}
	b.screenshot("dashboard-rolled-back.png")
	for _, page := range []string{b.html(), get200(t, admin.url+"/api/apps/"+e.ns+"/shop"), get200(t, admin.url+"/api/apps")} {
		for _, s := range secrets {
			if strings.Contains(page, s) {
				t.Fatalf("the dashboard shows the secret %q", s)
			}
		}
	}
}

// assertGuarded sends what another site or a script without the page's
// token could send, and expects each refused.
func assertGuarded(t *testing.T, base, ns string) {
	t.Helper()
	target := fmt.Sprintf("%s/apps/%s/shop/promote", base, ns)
	cases := []struct {
		name   string
		header map[string]string
		form   url.Values
		want   int
	}{
		{"no token", nil, url.Values{}, http.StatusForbidden},
		{"a wrong token", nil, url.Values{"token": {"0000"}}, http.StatusForbidden},
		{"another site's page", map[string]string{"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}, url.Values{}, http.StatusForbidden},
		{"a name that resolves here", map[string]string{"Host": "evil.example:80"}, url.Values{}, http.StatusMisdirectedRequest},
	}
	for _, c := range cases {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, target, strings.NewReader(c.form.Encode()))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for k, v := range c.header {
			if k == "Host" {
				req.Host = v
				continue
			}
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode != c.want {
			t.Errorf("a POST with %s: %d, want %d", c.name, resp.StatusCode, c.want)
		}
	}
}

// assertRendered checks that a screenshot shows the page as styled: both
// colors' hues are on it (the stylesheet loaded under the page's
// Content-Security-Policy), not a blank or unstyled page.
func assertRendered(t *testing.T, shot []byte) {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(shot))
	if err != nil {
		t.Fatalf("the screenshot is not a PNG: %v", err)
	}
	r := img.Bounds()
	if r.Dx() < 800 || r.Dy() < 400 {
		t.Fatalf("screenshot of %dx%d, want a whole page", r.Dx(), r.Dy())
	}
	near := func(c color.Color, want color.RGBA) bool {
		r, g, b, _ := c.RGBA()
		d := func(x uint32, y uint8) int { return int(x>>8) - int(y) }
		return abs(d(r, want.R)) < 12 && abs(d(g, want.G)) < 12 && abs(d(b, want.B)) < 12
	}
	blue, green := color.RGBA{0x25, 0x63, 0xeb, 0xff}, color.RGBA{0x16, 0xa3, 0x4a, 0xff}
	var sawBlue, sawGreen int
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			c := img.At(x, y)
			if near(c, blue) {
				sawBlue++
			}
			if near(c, green) {
				sawGreen++
			}
		}
	}
	if sawBlue < 100 || sawGreen < 100 {
		t.Fatalf("the screenshot has %d blue and %d green pixels; want the styled page with both colors", sawBlue, sawGreen)
	}
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

func get200(t *testing.T, u string) string {
	t.Helper()
	resp, err := http.Get(u) //nolint:gosec,noctx // the test's own server
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", u, resp.StatusCode, body)
	}
	return string(body)
}

// dashboardProc is a `bluegreen dashboard` process.
type dashboardProc struct {
	url string
}

// startDashboard starts `bluegreen dashboard` for namespace ns with the
// credentials of kubeconfig, waits until it serves, and stops it (with
// Ctrl-C, as a user would) when the test ends, expecting a clean exit.
func startDashboard(t *testing.T, kubeconfig, ns string) *dashboardProc {
	t.Helper()
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	cmd := exec.Command(cliBin, "--kubeconfig", kubeconfig, "-n", ns, "--audit-log", filepath.Join(t.TempDir(), "audit.jsonl"),
		"dashboard", "--listen", addr, "--refresh", "500ms")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case err := <-exited:
			if err != nil {
				t.Errorf("the dashboard did not stop cleanly: %v\n%s", err, out.String())
			}
		case <-time.After(time.Minute):
			_ = cmd.Process.Kill()
			t.Errorf("the dashboard did not stop on Ctrl-C:\n%s", out.String())
		}
	})
	p := &dashboardProc{url: "http://" + addr}
	deadline := time.Now().Add(time.Minute)
	for {
		resp, err := http.Get(p.url + "/healthz") //nolint:gosec,noctx // the test's own server
		if err == nil {
			_ = resp.Body.Close()
			return p
		}
		select {
		case err := <-exited:
			t.Fatalf("the dashboard exited: %v\n%s", err, out.String())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("the dashboard does not serve on %s:\n%s", addr, out.String())
		}
	}
}

// browser is a headless Chromium from the machine's packages, driven
// through the DevTools protocol.
type browser struct {
	t   *testing.T
	ctx context.Context
	// dir keeps the screenshots: $BLUEGREEN_TEST_ARTIFACTS when set.
	dir string
}

func newBrowser(t *testing.T) *browser {
	t.Helper()
	exe, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatalf("no chromium: the dashboard's tests need Debian's chromium (make test installs it): %v", err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(exe), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 900))
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	dir := os.Getenv("BLUEGREEN_TEST_ARTIFACTS")
	if dir == "" {
		dir = t.TempDir()
	}
	b := &browser{t: t, ctx: ctx, dir: dir}
	// The first call starts the browser, which lives as long as its
	// context: no timeout on it.
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return b
}

// do runs steps, bounded so that a page that never shows what a scenario
// waits for fails it rather than hanging it.
func (b *browser) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 2*time.Minute)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.t.Fatalf("%s: %v\n%s", what, err, b.failure())
	}
}

// failure saves what the page shows when a scenario fails, and returns
// its text.
func (b *browser) failure() string {
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	if shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)); err == nil {
		_ = os.WriteFile(filepath.Join(b.dir, "failure.png"), shot, 0o600)
	}
	text, err := chromedp.Run(ctx, chromedp.Evaluate[string](`location.href + "\n" + document.body.innerText`))
	if err != nil {
		return "(the page cannot be read: " + err.Error() + ")"
	}
	return "the page shows:\n" + text
}

// value runs an action that returns a value, bounded as do.
func value[T any](b *browser, what string, a chromedp.Action[T]) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 2*time.Minute)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		b.t.Fatalf("%s: %v\n%s", what, err, b.failure())
	}
	return v
}

func (b *browser) waitFor(what, selector string) {
	b.t.Helper()
	b.do("wait for "+what, chromedp.WaitVisible(chromedp.CSS(selector)))
}

func (b *browser) text(selector string) string {
	b.t.Helper()
	return strings.TrimSpace(value(b, "read "+selector, chromedp.Text(chromedp.CSS(selector))))
}

// textNow is the text of selector, or "" when the page has none now.
func (b *browser) textNow(selector string) string {
	b.t.Helper()
	js := fmt.Sprintf(`(document.querySelector(%q) || {textContent: ""}).textContent`, selector)
	return strings.TrimSpace(value(b, "read "+selector, chromedp.Evaluate[string](js)))
}

func (b *browser) count(selector string) int {
	b.t.Helper()
	return value(b, "count "+selector, chromedp.Evaluate[int](fmt.Sprintf(`document.querySelectorAll(%q).length`, selector)))
}

func (b *browser) disabled(selector string) bool {
	b.t.Helper()
	b.waitFor(selector, selector)
	return value(b, "read "+selector, chromedp.Evaluate[bool](fmt.Sprintf(`document.querySelector(%q).disabled`, selector)))
}

func (b *browser) html() string {
	b.t.Helper()
	return value(b, "read the page", chromedp.OuterHTML(chromedp.CSS("html")))
}

// posted is what a fetch from the page got back.
type posted struct {
	Status int    `json:"status"`
	Body   string `json:"body"`
}

// post sends, from the page, a form POST with the page's token, as a
// script on the page (or a user who enables the button) could.
func (b *browser) post(path string) (int, string) {
	b.t.Helper()
	js := fmt.Sprintf(`(async () => {
		const token = document.querySelector('input[name=token]').value;
		const r = await fetch(%q, {method: 'POST', body: new URLSearchParams({token}), redirect: 'manual'});
		return {status: r.status, body: await r.text()};
	})()`, path)
	out := value(b, "post "+path, chromedp.Evaluate[posted](js, chromedp.EvalAwaitPromise))
	return out.Status, out.Body
}

// screenshot saves the whole page as name and returns it.
func (b *browser) screenshot(name string) []byte {
	b.t.Helper()
	buf := value(b, "screenshot", chromedp.FullScreenshot(100))
	if err := os.WriteFile(filepath.Join(b.dir, name), buf, 0o600); err != nil {
		b.t.Fatal(err)
	}
	if _, err := png.DecodeConfig(bytes.NewReader(buf)); err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	return buf
}
