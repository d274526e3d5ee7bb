package check

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/bluegreen/bluegreen/internal/clock"
	"github.com/bluegreen/bluegreen/internal/redact"
)

// Target says what a check is pointed at.
type Target struct {
	App, Namespace, Color, Image string
	// BaseURL is PREVIEW_URL during preview checks and the production URL
	// during the post-promotion watch.
	BaseURL string
	// Phase names the release step the check gates (e.g. "preview",
	// "watch"); optional, sent by Webhook checks.
	Phase string
	// Service is the service of a product the check is about (namespace
	// scope); empty for an app's or a product's own checks.
	Service string
	// Host is the Host header of requests built from BaseURL (a gateway
	// that routes by host); empty sends BaseURL's host. A check's own Host
	// header wins.
	Host string
}

// Result is the outcome of one check run.
type Result struct {
	Name     string
	Passed   bool
	Attempts int
	Detail   string
	Elapsed  time.Duration
}

// Check gates a release step.
type Check interface {
	// Name identifies the check in results, logs and errors.
	Name() string
	// Run runs the check against t. The error is only for infrastructure
	// problems that make the result meaningless; a failing check returns
	// Passed=false with a Detail.
	Run(ctx context.Context, t Target) (Result, error)
}

// CheckFunc adapts a function to Check so other packages can plug in their
// own gates.
type CheckFunc struct {
	CheckName string
	F         func(ctx context.Context, t Target) (Result, error)
	// Clock times the run when F leaves Elapsed zero; nil is the wall clock.
	Clock clock.Clock
}

// Name returns CheckName.
func (c CheckFunc) Name() string { return c.CheckName }

// Run calls F, filling in the result's Name, Attempts and Elapsed when F left
// them zero.
func (c CheckFunc) Run(ctx context.Context, t Target) (Result, error) {
	if c.F == nil {
		return Result{Name: c.CheckName}, fmt.Errorf("check %q: no function set; set CheckFunc.F", c.CheckName)
	}
	clk := c.Clock
	if clk == nil {
		clk = clock.Real{}
	}
	start := clk.Now()
	res, err := c.F(ctx, t)
	if res.Name == "" {
		res.Name = c.CheckName
	}
	if res.Attempts == 0 {
		res.Attempts = 1
	}
	if res.Elapsed == 0 {
		res.Elapsed = clock.Since(clk, start)
	}
	return res, err
}

// RunAll runs checks in order against t and stops at the first failure or
// error. It returns the results of the checks that ran, the failing one last.
func RunAll(ctx context.Context, checks []Check, t Target) ([]Result, error) {
	results := make([]Result, 0, len(checks))
	for _, c := range checks {
		if err := ctx.Err(); err != nil {
			return results, fmt.Errorf("check %q: not started: %w", c.Name(), err)
		}
		res, err := c.Run(ctx, t)
		if res.Name == "" {
			res.Name = c.Name()
		}
		results = append(results, res)
		if err != nil {
			return results, err
		}
		if !res.Passed {
			break
		}
	}
	return results, nil
}

// Passed reports whether results is non-empty and every result passed.
func Passed(results []Result) bool {
	if len(results) == 0 {
		return false
	}
	for _, r := range results {
		if !r.Passed {
			return false
		}
	}
	return true
}

// Option configures the dependencies of a check built by NewHTTP, NewSmoke,
// NewWebhook or Build.
type Option func(*deps)

type deps struct {
	logger  *slog.Logger
	clock   clock.Clock
	client  *http.Client
	secrets *redact.Secrets
}

// WithLogger sets the logger; the default discards.
func WithLogger(l *slog.Logger) Option { return func(d *deps) { d.logger = l } }

// WithClock sets the clock; the default is the wall clock.
func WithClock(c clock.Clock) Option { return func(d *deps) { d.clock = c } }

// WithHTTPClient sets the HTTP client of HTTP and Webhook checks; the default
// is a new client that does not share state with http.DefaultClient. Per
// attempt timeouts come from the check config, not from the client. Each
// check uses a copy whose CheckRedirect applies the check's Redirects policy.
func WithHTTPClient(c *http.Client) Option { return func(d *deps) { d.client = c } }

// WithSecrets adds known secret values hidden from Detail, errors and logs.
// The check adds its own secrets (webhook URL, header values) to a private
// copy, so s is never modified.
func WithSecrets(s *redact.Secrets) Option { return func(d *deps) { d.secrets = s } }

// newDeps applies opts over the defaults.
func newDeps(opts []Option) deps {
	d := deps{}
	for _, o := range opts {
		o(&d)
	}
	if d.logger == nil {
		d.logger = slog.New(slog.DiscardHandler)
	}
	if d.clock == nil {
		d.clock = clock.Real{}
	}
	if d.client == nil {
		d.client = &http.Client{}
	}
	return d
}

// redactor hides the caller's secrets plus the check's own.
type redactor struct {
	shared *redact.Secrets
	own    *redact.Secrets
}

// String hides every known secret in s, then redacts URLs. Known values go
// first: URL redaction could otherwise alter a secret URL so that it is no
// longer recognised.
func (r redactor) String(s string) string {
	return redact.Text(r.own.Replace(r.shared.Replace(s)))
}

// Error returns err's message with secrets hidden.
func (r redactor) Error(err error) string {
	return r.String(err.Error())
}

// sleep waits d on clk, or returns ctx's error.
func sleep(ctx context.Context, clk clock.Clock, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-clk.After(d):
		return nil
	}
}

// errNoBaseURL is returned when a relative URL meets an empty Target.BaseURL.
var errNoBaseURL = errors.New("relative url needs Target.BaseURL (PREVIEW_URL) but it is empty; set it or use an absolute url")
