package notify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/bluegreen/bluegreen/internal/clock"
	"github.com/bluegreen/bluegreen/internal/redact"
)

// Retry limits of the webhook notifiers (Slack and JSONWebhook).
const (
	MaxRetries     = 3
	MaxRetryAfter  = 5 * time.Second
	DefaultTimeout = 10 * time.Second
	DefaultBackoff = time.Second
)

// Webhook is where and how a webhook notifier delivers: the settings Slack
// and JSONWebhook share.
type Webhook struct {
	// URL is the webhook URL; a secret, only ever logged redacted.
	URL string
	// Timeout bounds each attempt; 0 means DefaultTimeout.
	Timeout time.Duration
	// Client sends the requests; nil means a new http.Client.
	Client *http.Client
	// Logger receives retry and failure logs; nil discards them.
	Logger *slog.Logger
	// Clock times retry waits (and stamps JSON events without a Time); nil
	// means the wall clock.
	Clock clock.Clock
	// Backoff is the first retry wait, doubled for each further retry; 0
	// means DefaultBackoff.
	Backoff time.Duration
	// Secrets, if set, are hidden from the payload as well as from errors
	// and logs.
	Secrets *redact.Secrets
}

// hook is the delivery both webhook notifiers share: one JSON POST with a
// per-attempt timeout, retried on 5xx, 429 and transport errors. It is the
// one home of the retry rules documented in the package comment; Slack and
// JSONWebhook only differ in the body they post.
type hook struct {
	// name says which notifier posts, e.g. "slack", in errors and logs.
	name string
	Webhook
}

// send posts body for e, retrying as described in the package documentation.
// Errors and logs show the URL only redacted.
func (h hook) send(ctx context.Context, e Event, body []byte) error {
	safe := redact.WebhookURL(h.URL)
	red := redact.NewSecrets(h.URL)
	log := h.logger().With("notifier", h.name, "url", safe, "kind", e.Kind, "run", e.Run)
	var lastErr error
	for attempt := 1; attempt <= MaxRetries+1; attempt++ {
		wait, err := h.post(ctx, body, attempt)
		if err == nil {
			log.Debug("notification sent", "attempts", attempt)
			return nil
		}
		lastErr = errors.New(hideSecrets(h.Secrets, red, err.Error()))
		if wait < 0 || ctx.Err() != nil || attempt > MaxRetries {
			break
		}
		log.Warn("notification failed, retrying", "attempt", attempt, "wait", wait, "error", lastErr)
		select {
		case <-ctx.Done():
		case <-h.getClock().After(wait):
		}
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%s notify %s: POST %s: %w: %w", h.name, e.Kind, safe, lastErr, err)
	}
	return fmt.Errorf("%s notify %s: POST %s: %w", h.name, e.Kind, safe, lastErr)
}

// post makes one attempt. On failure it returns how long to wait before
// retrying, or -1 when the failure is not worth retrying.
func (h hook) post(ctx context.Context, body []byte, attempt int) (time.Duration, error) {
	timeout := h.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	actx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(actx, http.MethodPost, h.URL, bytes.NewReader(body))
	if err != nil {
		return -1, fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	client := h.Client
	if client == nil {
		client = &http.Client{}
	}
	resp, err := client.Do(req)
	if err != nil {
		return h.wait(attempt), err // send hides the URL
	}
	defer resp.Body.Close()
	excerpt, _ := io.ReadAll(io.LimitReader(resp.Body, 200))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return 0, nil
	}
	err = fmt.Errorf("status %d: %s", resp.StatusCode, strings.TrimSpace(string(excerpt)))
	switch {
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		if ra, ok := retryAfter(resp.Header.Get("Retry-After")); ok {
			return ra, err
		}
		return h.wait(attempt), err
	default:
		return -1, fmt.Errorf("%w (not retried)", err)
	}
}

// wait returns the wait after the given failed attempt.
func (h hook) wait(attempt int) time.Duration {
	b := h.Backoff
	if b <= 0 {
		b = DefaultBackoff
	}
	return b << (attempt - 1)
}

func (h hook) logger() *slog.Logger {
	if h.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return h.Logger
}

func (h hook) getClock() clock.Clock {
	if h.Clock == nil {
		return clock.Real{}
	}
	return h.Clock
}

// retryAfter parses a Retry-After header in seconds, capped at MaxRetryAfter.
func retryAfter(v string) (time.Duration, bool) {
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n < 0 {
		return 0, false
	}
	if d := time.Duration(n) * time.Second; d < MaxRetryAfter {
		return d, true
	}
	return MaxRetryAfter, true
}

// hideSecrets removes the configured secrets, the extra ones and URL
// secrets from str, known values first so that URL redaction cannot
// disguise them.
func hideSecrets(configured, extra *redact.Secrets, str string) string {
	return redact.Text(extra.Replace(configured.Replace(str)))
}
