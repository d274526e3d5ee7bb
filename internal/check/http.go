package check

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/bluegreen/bluegreen/internal/redact"
)

// maxBody is how much of a response body an HTTP or Webhook check reads.
const maxBody = 1 << 20

// maxExcerpt is the longest body excerpt put in a Result's Detail.
const maxExcerpt = 200

// HTTPConfig configures an HTTP check.
type HTTPConfig struct {
	// URL is absolute (http or https), or a path such as /healthz appended
	// to the Target's BaseURL path at run time.
	URL string `json:"url" yaml:"url"`
	// Method defaults to GET.
	Method string `json:"method,omitempty" yaml:"method,omitempty"`
	// ExpectStatus is the status code that passes; 0 means any 2xx.
	ExpectStatus int `json:"expectStatus,omitempty" yaml:"expectStatus,omitempty"`
	// BodyContains, if set, must occur in the response body (first 1 MiB).
	BodyContains string `json:"bodyContains,omitempty" yaml:"bodyContains,omitempty"`
	// Headers are sent with every request; values are treated as secrets.
	// A "Host" entry sets the request's Host.
	Headers map[string]string `json:"headers,omitempty" yaml:"headers,omitempty"`
	// Retries is the number of attempts; 0 means Defaults.Retries.
	Retries int `json:"retries,omitempty" yaml:"retries,omitempty"`
	// Interval is the wait between attempts; 0 means Defaults.Interval.
	Interval Duration `json:"interval,omitempty" yaml:"interval,omitempty"`
	// Timeout is per attempt; 0 means Defaults.AttemptTimeout.
	Timeout Duration `json:"timeout,omitempty" yaml:"timeout,omitempty"`
	// Redirects is same-host (default), none or any; see RedirectSameHost.
	Redirects string `json:"redirects,omitempty" yaml:"redirects,omitempty"`
}

var methodRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z]+$`) })

// Validate reports the first invalid field and how to fix it.
func (c HTTPConfig) Validate() error {
	if err := validateURL(c.URL, true, redact.URL); err != nil {
		return err
	}
	if c.Method != "" && !methodRE().MatchString(c.Method) {
		return fmt.Errorf("method %q: want an HTTP method such as GET or HEAD", c.Method)
	}
	if c.ExpectStatus != 0 && (c.ExpectStatus < 100 || c.ExpectStatus > 599) {
		return fmt.Errorf("expectStatus %d: want a status code from 100 to 599, or 0 for any 2xx", c.ExpectStatus)
	}
	if c.Retries < 0 {
		return fmt.Errorf("retries %d: want 1 or more, or 0 for the default (%s)", c.Retries, EnvRetries)
	}
	if c.Interval < 0 {
		return fmt.Errorf("interval %s: must not be negative", c.Interval)
	}
	if c.Timeout < 0 {
		return fmt.Errorf("timeout %s: must not be negative", c.Timeout)
	}
	if err := validateRedirects(c.Redirects); err != nil {
		return err
	}
	return validateHeaders(c.Headers)
}

// validateURL checks an absolute http(s) URL, or a /path when allowPath;
// show redacts the URL for the error message.
func validateURL(raw string, allowPath bool, show func(string) string) error {
	want := "an absolute http(s) url"
	if allowPath {
		want += " or a path such as /healthz"
	}
	if strings.TrimSpace(raw) == "" {
		return fmt.Errorf("url is required; set %s", want)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("url %s: does not parse; set %s", show(raw), want)
	}
	if !u.IsAbs() {
		if allowPath && strings.HasPrefix(raw, "/") && !strings.HasPrefix(raw, "//") {
			return nil
		}
		return fmt.Errorf("url %s: not absolute; set %s", show(raw), want)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("url %s: scheme %q; use http or https", show(raw), u.Scheme)
	}
	if u.Host == "" {
		return fmt.Errorf("url %s: no host; set %s", show(raw), want)
	}
	return nil
}

// validateHeaders rejects header names that cannot be sent.
func validateHeaders(h map[string]string) error {
	for k := range h {
		if k == "" || strings.ContainsAny(k, " \t\r\n:") {
			return fmt.Errorf("headers: name %q is not a valid header name", k)
		}
	}
	return nil
}

// HTTP is a check that requests a URL until it answers as expected.
type HTTP struct {
	name     string
	cfg      HTTPConfig
	method   string
	retries  int
	interval time.Duration
	timeout  time.Duration
	deps     deps
	red      redactor
}

// NewHTTP validates cfg and returns an HTTP check named name, with d filling
// in Retries, Interval and AttemptTimeout when cfg leaves them zero.
func NewHTTP(name string, cfg HTTPConfig, d Defaults, opts ...Option) (*HTTP, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("http check %q: %w", name, err)
	}
	d = d.resolved()
	h := &HTTP{
		name:     pick(name, "http"),
		cfg:      cfg,
		method:   strings.ToUpper(pick(cfg.Method, http.MethodGet)),
		retries:  pick(cfg.Retries, d.Retries),
		interval: pick(cfg.Interval.D(), d.Interval),
		timeout:  pick(cfg.Timeout.D(), d.AttemptTimeout),
		deps:     newDeps(opts),
	}
	h.deps.client = withRedirects(h.deps.client, cfg.Redirects, cfg.Headers)
	own := redact.NewSecrets()
	for _, v := range cfg.Headers {
		own.Add(v)
	}
	h.red = redactor{shared: h.deps.secrets, own: own}
	return h, nil
}

// Name returns the check's name.
func (h *HTTP) Name() string { return h.name }

// Run requests the URL up to Retries times, Interval apart, and passes on the
// first expected answer. A failure's Detail holds the last attempt's status
// and a redacted body excerpt. The error is for a relative URL without
// Target.BaseURL, and for ctx ending.
func (h *HTTP) Run(ctx context.Context, t Target) (Result, error) {
	res := Result{Name: h.name}
	target, err := resolveURL(h.cfg.URL, t.BaseURL)
	if err != nil {
		return res, fmt.Errorf("http check %q: %w", h.name, err)
	}
	safeURL := redact.URL(target)
	log := h.deps.logger.With("check", h.name, "url", safeURL)
	start := h.deps.clock.Now()
	for attempt := 1; ; attempt++ {
		ok, detail := h.attempt(ctx, target, safeURL, h.host(t))
		res.Attempts = attempt
		res.Elapsed = h.deps.clock.Now().Sub(start)
		res.Detail = fmt.Sprintf("attempt %d/%d: %s", attempt, h.retries, detail)
		if ok {
			res.Passed = true
			log.Info("http check passed", "attempts", attempt, "elapsed", res.Elapsed)
			return res, nil
		}
		if err := ctx.Err(); err != nil {
			return res, fmt.Errorf("http check %q: %s %s: %w", h.name, h.method, safeURL, err)
		}
		if attempt >= h.retries {
			log.Warn("http check failed", "attempts", attempt, "detail", res.Detail)
			return res, nil
		}
		log.Debug("http check attempt failed, retrying", "attempt", attempt, "detail", res.Detail, "wait", h.interval)
		if err := sleep(ctx, h.deps.clock, h.interval); err != nil {
			res.Elapsed = h.deps.clock.Now().Sub(start)
			return res, fmt.Errorf("http check %q: waiting to retry %s: %w", h.name, safeURL, err)
		}
	}
}

// IsPath reports whether the check's URL is a path, requested at the
// target's base URL (Validate admits an absolute URL or a path).
func (c HTTPConfig) IsPath() bool { return strings.HasPrefix(c.URL, "/") }

// host is the Host header of a request to t: t.Host when the check's URL
// is a path (so the request goes to t.BaseURL), else the URL's own.
func (h *HTTP) host(t Target) string {
	if h.cfg.IsPath() {
		return t.Host
	}
	return ""
}

// attempt makes one request and says whether it passed and why.
func (h *HTTP) attempt(ctx context.Context, target, safeURL, host string) (bool, string) {
	actx, cancel := context.WithTimeout(ctx, h.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(actx, h.method, target, nil)
	if err != nil {
		return false, fmt.Sprintf("%s %s: %s", h.method, safeURL, h.red.Error(err))
	}
	if host != "" {
		req.Host = host
	}
	for k, v := range h.cfg.Headers {
		if strings.EqualFold(k, "Host") {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	resp, err := h.deps.client.Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
			return false, fmt.Sprintf("%s %s: no answer within %s", h.method, safeURL, h.timeout)
		}
		if d := crossHostDetail(err); d != "" {
			return false, fmt.Sprintf("%s %s: %s", h.method, safeURL, d)
		}
		return false, fmt.Sprintf("%s %s: %s", h.method, safeURL, h.red.Error(err))
	}
	defer resp.Body.Close()
	body, readErr := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if !statusOK(resp.StatusCode, h.cfg.ExpectStatus) {
		return false, fmt.Sprintf("status %d, want %s; body: %s",
			resp.StatusCode, wantStatus(h.cfg.ExpectStatus), excerpt(h.red, body))
	}
	if readErr != nil {
		return false, fmt.Sprintf("status %d but reading the body failed: %s", resp.StatusCode, h.red.Error(readErr))
	}
	if h.cfg.BodyContains != "" && !bytes.Contains(body, []byte(h.cfg.BodyContains)) {
		return false, fmt.Sprintf("status %d but body does not contain %q; body: %s",
			resp.StatusCode, h.red.String(h.cfg.BodyContains), excerpt(h.red, body))
	}
	return true, fmt.Sprintf("status %d", resp.StatusCode)
}

// resolveURL returns raw if absolute, else raw's path (and query) appended to
// base's path.
func resolveURL(raw, base string) (string, error) {
	r, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("url %s: does not parse", redact.URL(raw))
	}
	if r.IsAbs() {
		return raw, nil
	}
	if base == "" {
		return "", fmt.Errorf("url %s: %w", redact.URL(raw), errNoBaseURL)
	}
	b, err := url.Parse(base)
	if err != nil || !b.IsAbs() || b.Host == "" {
		return "", fmt.Errorf("base url %s: not an absolute url; set Target.BaseURL (PREVIEW_URL) to e.g. https://preview.example.com", redact.URL(base))
	}
	j := b.JoinPath(r.EscapedPath())
	j.RawQuery = r.RawQuery
	j.Fragment = ""
	return j.String(), nil
}

// statusOK reports whether code is want, or any 2xx when want is 0.
func statusOK(code, want int) bool {
	if want == 0 {
		return code >= 200 && code < 300
	}
	return code == want
}

// wantStatus describes the expected status for Detail.
func wantStatus(want int) string {
	if want == 0 {
		return "2xx"
	}
	return fmt.Sprint(want)
}

// excerpt returns body with secrets hidden, whitespace collapsed and at most
// maxExcerpt bytes long. A cut excerpt ends in "... (N bytes)" so a reader
// knows how much of the answer is left out: the Detail goes to the journal,
// the audit log and notifications, so it quotes little of a body it cannot
// vouch for.
func excerpt(red redactor, body []byte) string {
	s := strings.Join(strings.Fields(strings.ToValidUTF8(red.String(string(body)), "?")), " ")
	if s == "" {
		return "(empty)"
	}
	if len(s) <= maxExcerpt {
		return s
	}
	size := fmt.Sprintf("%d bytes", len(body))
	if len(body) >= maxBody {
		size = fmt.Sprintf("over %d bytes", maxBody)
	}
	suffix := "... (" + size + ")"
	cut := maxExcerpt - len(suffix)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + suffix
}
