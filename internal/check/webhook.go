package check

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/bluegreen/bluegreen/internal/redact"
)

// WebhookConfig configures a Webhook check: an external gate asked over HTTP.
type WebhookConfig struct {
	// URL receives the POST; it is a secret and is only ever logged redacted.
	URL string `json:"url" yaml:"url"`
	// Headers are sent with the request; values are secrets.
	Headers map[string]string `json:"headers,omitempty" yaml:"headers,omitempty"`
	// Timeout bounds the request; 0 means Defaults.AttemptTimeout.
	Timeout Duration `json:"timeout,omitempty" yaml:"timeout,omitempty"`
	// Redirects is same-host (default), none or any; see RedirectSameHost.
	Redirects string `json:"redirects,omitempty" yaml:"redirects,omitempty"`
}

// Validate reports the first invalid field and how to fix it.
func (c WebhookConfig) Validate() error {
	if err := validateURL(c.URL, false, redact.WebhookURL); err != nil {
		return err
	}
	if c.Timeout < 0 {
		return fmt.Errorf("timeout %s: must not be negative", c.Timeout)
	}
	if err := validateRedirects(c.Redirects); err != nil {
		return err
	}
	return validateHeaders(c.Headers)
}

// WebhookPayload is the JSON body a Webhook check posts.
type WebhookPayload struct {
	App       string `json:"app"`
	Namespace string `json:"namespace"`
	Color     string `json:"color"`
	Image     string `json:"image"`
	BaseURL   string `json:"baseURL"`
	Phase     string `json:"phase"`
	// Service and Host are set at namespace scope: the product's service
	// checked (empty for the product's own checks), and the Host header
	// that reaches the color through the gateway at BaseURL.
	Service string `json:"service,omitempty"`
	Host    string `json:"host,omitempty"`
}

// Webhook is a check that posts the Target to a URL; a 2xx answer passes.
type Webhook struct {
	name    string
	cfg     WebhookConfig
	timeout time.Duration
	deps    deps
	red     redactor
}

// NewWebhook validates cfg and returns a Webhook check named name, with
// d.AttemptTimeout used when cfg.Timeout is zero.
func NewWebhook(name string, cfg WebhookConfig, d Defaults, opts ...Option) (*Webhook, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("webhook check %q: %w", name, err)
	}
	d = d.resolved()
	w := &Webhook{
		name:    pick(name, "webhook"),
		cfg:     cfg,
		timeout: pick(cfg.Timeout.D(), d.AttemptTimeout),
		deps:    newDeps(opts),
	}
	w.deps.client = withRedirects(w.deps.client, cfg.Redirects, cfg.Headers)
	own := redact.NewSecrets(cfg.URL)
	for _, v := range cfg.Headers {
		own.Add(v)
	}
	w.red = redactor{shared: w.deps.secrets, own: own}
	return w, nil
}

// Name returns the check's name.
func (w *Webhook) Name() string { return w.name }

// Run posts the Target as a WebhookPayload. A non-2xx answer, a transport
// error or the timeout fails the check; the error is for ctx ending.
func (w *Webhook) Run(ctx context.Context, t Target) (Result, error) {
	res := Result{Name: w.name, Attempts: 1}
	safeURL := redact.WebhookURL(w.cfg.URL)
	start := w.deps.clock.Now()
	passed, detail := w.post(ctx, t, safeURL)
	res.Elapsed = w.deps.clock.Now().Sub(start)
	res.Passed, res.Detail = passed, detail
	if err := ctx.Err(); err != nil && !passed {
		return res, fmt.Errorf("webhook check %q: POST %s: %w", w.name, safeURL, err)
	}
	w.deps.logger.Info("webhook check finished", "check", w.name, "url", safeURL,
		"passed", res.Passed, "detail", res.Detail, "elapsed", res.Elapsed)
	return res, nil
}

// post sends one request and says whether it passed and why.
func (w *Webhook) post(ctx context.Context, t Target, safeURL string) (bool, string) {
	//nolint:staticcheck // S1016: fields listed on purpose, so a field added to Target never reaches the hook unseen
	body, err := json.Marshal(WebhookPayload{
		App: t.App, Namespace: t.Namespace, Color: t.Color,
		Image: t.Image, BaseURL: t.BaseURL, Phase: t.Phase,
		Service: t.Service, Host: t.Host,
	})
	if err != nil {
		return false, "encoding payload: " + err.Error()
	}
	rctx, cancel := context.WithTimeout(ctx, w.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodPost, w.cfg.URL, bytes.NewReader(body))
	if err != nil {
		return false, fmt.Sprintf("POST %s: %s", safeURL, w.red.Error(err))
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range w.cfg.Headers {
		req.Header.Set(k, v)
	}
	resp, err := w.deps.client.Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
			return false, fmt.Sprintf("POST %s: no answer within %s", safeURL, w.timeout)
		}
		if d := crossHostDetail(err); d != "" {
			return false, fmt.Sprintf("POST %s: %s", safeURL, d)
		}
		return false, fmt.Sprintf("POST %s: %s", safeURL, w.red.Error(err))
	}
	defer resp.Body.Close()
	respBody, _ := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if !statusOK(resp.StatusCode, 0) {
		return false, fmt.Sprintf("status %d, want 2xx; body: %s", resp.StatusCode, excerpt(w.red, respBody))
	}
	return true, fmt.Sprintf("status %d; body: %s", resp.StatusCode, excerpt(w.red, respBody))
}
