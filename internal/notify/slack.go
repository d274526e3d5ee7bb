package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/bluegreen/bluegreen/internal/redact"
)

// Retry limits of Slack.Notify.
const (
	MaxRetries     = 3
	MaxRetryAfter  = 5 * time.Second
	DefaultTimeout = 10 * time.Second
	DefaultBackoff = time.Second
)

// Clock is the time source for retry waits.
type Clock interface {
	Now() time.Time
	After(d time.Duration) <-chan time.Time
}

type systemClock struct{}

func (systemClock) Now() time.Time                         { return time.Now() }
func (systemClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// Slack posts events to a Slack-compatible incoming webhook.
type Slack struct {
	// URL is the webhook URL; a secret, only ever logged redacted.
	URL string
	// Timeout bounds each attempt; 0 means DefaultTimeout.
	Timeout time.Duration
	// Client sends the requests; nil means a new http.Client.
	Client *http.Client
	// Logger receives retry and failure logs; nil discards them.
	Logger *slog.Logger
	// Clock times retry waits; nil means the system clock.
	Clock Clock
	// Backoff is the first retry wait, doubled for each further retry; 0
	// means DefaultBackoff.
	Backoff time.Duration
	// Blocks adds a Block Kit section and context to the payload.
	Blocks bool
	// Secrets, if set, are hidden from the message text as well as from
	// errors and logs.
	Secrets *redact.Secrets
}

// slackPayload is the JSON posted to the webhook.
type slackPayload struct {
	Text   string `json:"text"`
	Blocks []any  `json:"blocks,omitempty"`
}

// Notify posts e, retrying as described in the package documentation.
func (s *Slack) Notify(ctx context.Context, e Event) error {
	safe := redact.WebhookURL(s.URL)
	if strings.TrimSpace(s.URL) == "" {
		return fmt.Errorf("slack notify %s: no webhook url; set the Slack webhook URL", e.Kind)
	}
	body, err := json.Marshal(s.payload(e))
	if err != nil {
		return fmt.Errorf("slack notify %s: encode payload: %w", e.Kind, err)
	}
	red := redact.NewSecrets(s.URL)
	log := s.logger().With("notifier", "slack", "url", safe, "kind", e.Kind, "run", e.Run)
	var lastErr error
	for attempt := 1; attempt <= MaxRetries+1; attempt++ {
		wait, err := s.post(ctx, body, attempt)
		if err == nil {
			log.Debug("notification sent", "attempts", attempt)
			return nil
		}
		lastErr = errors.New(s.hide(red, err.Error()))
		if wait < 0 || ctx.Err() != nil || attempt > MaxRetries {
			break
		}
		log.Warn("notification failed, retrying", "attempt", attempt, "wait", wait, "error", lastErr)
		select {
		case <-ctx.Done():
		case <-s.clock().After(wait):
		}
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("slack notify %s: POST %s: %v: %w", e.Kind, safe, lastErr, err)
	}
	return fmt.Errorf("slack notify %s: POST %s: %w", e.Kind, safe, lastErr)
}

// post makes one attempt. On failure it returns how long to wait before
// retrying, or -1 when the failure is not worth retrying.
func (s *Slack) post(ctx context.Context, body []byte, attempt int) (time.Duration, error) {
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	actx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(actx, http.MethodPost, s.URL, bytes.NewReader(body))
	if err != nil {
		return -1, fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	client := s.Client
	if client == nil {
		client = &http.Client{}
	}
	resp, err := client.Do(req)
	if err != nil {
		return s.backoff(attempt), err // Notify hides the URL
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
		return s.backoff(attempt), err
	default:
		return -1, fmt.Errorf("%w (not retried)", err)
	}
}

// backoff returns the wait after the given failed attempt.
func (s *Slack) backoff(attempt int) time.Duration {
	b := s.Backoff
	if b <= 0 {
		b = DefaultBackoff
	}
	return b << (attempt - 1)
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

// payload builds the JSON body for e.
func (s *Slack) payload(e Event) slackPayload {
	p := slackPayload{Text: escape(s.hide(nil, e.Text()))}
	if !s.Blocks {
		return p
	}
	var ctxFields []any
	for _, kv := range [][2]string{{"app", e.App}, {"namespace", e.Namespace}, {"run", e.Run}, {"image", e.Image}} {
		if kv[1] != "" {
			ctxFields = append(ctxFields, map[string]any{"type": "mrkdwn", "text": "*" + kv[0] + ":* " + escape(s.hide(nil, kv[1]))})
		}
	}
	p.Blocks = []any{map[string]any{"type": "section", "text": map[string]any{"type": "mrkdwn", "text": p.Text}}}
	if len(ctxFields) > 0 {
		p.Blocks = append(p.Blocks, map[string]any{"type": "context", "elements": ctxFields})
	}
	return p
}

// hide removes the configured secrets, the extra ones and URL secrets from
// str, known values first so that URL redaction cannot disguise them.
func (s *Slack) hide(extra *redact.Secrets, str string) string {
	return redact.Text(extra.Replace(s.Secrets.Replace(str)))
}

func (s *Slack) logger() *slog.Logger {
	if s.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Logger
}

func (s *Slack) clock() Clock {
	if s.Clock == nil {
		return systemClock{}
	}
	return s.Clock
}

// escape applies Slack's mrkdwn escaping of &, < and >.
func escape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}
