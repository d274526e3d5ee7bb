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
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bluegreen/bluegreen/internal/clock"
	"github.com/bluegreen/bluegreen/internal/redact"
)

// secretPath is the webhook's secret; it must never show in errors or logs.
const secretPath = "/services/T0SECRET/B0SECRET/xoxSecretWebhookToken"

type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func testLogger() (*slog.Logger, *logBuffer) {
	b := &logBuffer{}
	return slog.New(slog.NewJSONHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug})), b
}

// reply is one scripted answer of the test webhook.
type reply struct {
	status     int
	body       string
	retryAfter string
}

// hookServer answers requests with replies in order (the last one repeats)
// and records the bodies it got.
type hookServer struct {
	*httptest.Server
	calls  atomic.Int32
	mu     sync.Mutex
	bodies [][]byte
}

func newHookServer(t *testing.T, replies ...reply) *hookServer {
	t.Helper()
	h := &hookServer{}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := int(h.calls.Add(1))
		b, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		h.bodies = append(h.bodies, b)
		h.mu.Unlock()
		if r.Method != http.MethodPost || r.URL.Path != secretPath || r.Header.Get("Content-Type") != "application/json" {
			http.Error(w, "bad request shape", http.StatusTeapot)
			return
		}
		rp := replies[min(n, len(replies))-1]
		if rp.retryAfter != "" {
			w.Header().Set("Retry-After", rp.retryAfter)
		}
		w.WriteHeader(rp.status)
		_, _ = io.WriteString(w, rp.body)
	}))
	t.Cleanup(h.Close)
	return h
}

func (h *hookServer) hookURL() string { return h.URL + secretPath }

func (h *hookServer) lastBody() []byte {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.bodies[len(h.bodies)-1]
}

func assertNoSecret(t *testing.T, what, s string) {
	t.Helper()
	if strings.Contains(s, "SECRET") || strings.Contains(s, "xoxSecret") {
		t.Errorf("%s leaks the webhook secret: %s", what, s)
	}
}

var promoted = Event{Kind: KindPromoted, App: "myapp", Namespace: "prod", Run: "01HRUN", FromColor: "blue", ToColor: "green", Image: "reg/myapp:1.2"}

func TestEventText(t *testing.T) {
	base := Event{App: "myapp", Namespace: "prod", Run: "01HRUN", FromColor: "blue", ToColor: "green", Image: "reg/myapp:1.2"}
	with := func(kind, msg string) Event { e := base; e.Kind, e.Message = kind, msg; return e }
	tests := []struct {
		e    Event
		want string
	}{
		{with(KindPromoted, ""), ":large_green_circle: myapp promoted to green (image reg/myapp:1.2) in namespace prod — run 01HRUN"},
		{with(KindStarted, ""), ":rocket: myapp release started: blue → green (image reg/myapp:1.2) in namespace prod — run 01HRUN"},
		{with(KindPaused, "waiting for approval"), ":double_vertical_bar: myapp release to green paused (image reg/myapp:1.2) in namespace prod — run 01HRUN: waiting for approval"},
		{with(KindRolledBack, ""), ":rewind: myapp rolled back to blue (image reg/myapp:1.2) in namespace prod — run 01HRUN"},
		{with(KindFailed, "check healthz failed"), ":red_circle: myapp release to green failed (image reg/myapp:1.2) in namespace prod — run 01HRUN: check healthz failed"},
		{with(KindAborted, ""), ":no_entry_sign: myapp release to green aborted (image reg/myapp:1.2) in namespace prod — run 01HRUN"},
		{with(KindSucceeded, ""), ":white_check_mark: myapp release to green succeeded (image reg/myapp:1.2) in namespace prod — run 01HRUN"},
		{Event{Kind: "custom"}, ":information_source: release custom"},
		{Event{Kind: KindRolledBack, App: "a"}, ":rewind: a rolled back"},
		{Event{Kind: KindStarted, App: "a", ToColor: "blue"}, ":rocket: a release started to blue"},
	}
	for _, tt := range tests {
		t.Run(tt.e.Kind, func(t *testing.T) {
			if got := tt.e.Text(); got != tt.want {
				t.Errorf("Text() =\n%q\nwant\n%q", got, tt.want)
			}
		})
	}
}

func TestSlackPayload(t *testing.T) {
	tests := []struct {
		name     string
		blocks   bool
		secrets  *redact.Secrets
		event    Event
		wantText string
		wantKeys string
	}{
		{"text only", false, nil, promoted, promoted.Text(), "text"},
		{"with blocks", true, nil, promoted, promoted.Text(), "blocks,text"},
		{"secret message", false, redact.NewSecrets("db-pass-123"), Event{Kind: KindFailed, App: "a", Message: "login db-pass-123 refused"},
			":red_circle: a release failed: login *** refused", "text"},
		{"escaped and redacted", false, nil, Event{Kind: KindFailed, App: "a<b>&c", Message: "GET https://x/y?token=abc failed"},
			":red_circle: a&lt;b&gt;&amp;c release failed: GET https://x/y?token=*** failed", "text"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newHookServer(t, reply{status: 200, body: "ok"})
			s := &Slack{Webhook: Webhook{URL: srv.hookURL(), Secrets: tt.secrets}, Blocks: tt.blocks}
			if err := s.Notify(context.Background(), tt.event); err != nil {
				t.Fatal(err)
			}
			var got map[string]any
			if err := json.Unmarshal(srv.lastBody(), &got); err != nil {
				t.Fatal(err)
			}
			var keys []string
			for k := range got {
				keys = append(keys, k)
			}
			if strings.Join(slices.Sorted(slices.Values(keys)), ",") != tt.wantKeys || got["text"] != tt.wantText {
				t.Errorf("payload %s, want keys %s and text %q", srv.lastBody(), tt.wantKeys, tt.wantText)
			}
			if tt.blocks {
				blocks, _ := got["blocks"].([]any)
				if len(blocks) != 2 || !strings.Contains(string(srv.lastBody()), `"type":"section"`) {
					t.Errorf("blocks = %v", got["blocks"])
				}
			}
		})
	}
}

func TestSlackRetries(t *testing.T) {
	tests := []struct {
		name      string
		replies   []reply
		wantErr   string
		wantCalls int32
		wantWaits []time.Duration
	}{
		{"ok", []reply{{status: 200}}, "", 1, nil},
		{"retry on 500", []reply{{status: 500}, {status: 502}, {status: 200}}, "", 3, []time.Duration{10 * time.Millisecond, 20 * time.Millisecond}},
		{"give up after 3 retries", []reply{{status: 503, body: "down " + secretPath}}, "status 503: down /services/***", 4,
			[]time.Duration{10 * time.Millisecond, 20 * time.Millisecond, 40 * time.Millisecond}},
		{"429 honours retry-after", []reply{{status: 429, retryAfter: "1"}, {status: 200}}, "", 2, []time.Duration{time.Second}},
		{"retry-after capped", []reply{{status: 429, retryAfter: "60"}, {status: 200}}, "", 2, []time.Duration{MaxRetryAfter}},
		{"retry-after date ignored", []reply{{status: 503, retryAfter: "Wed, 21 Oct 2015 07:28:00 GMT"}, {status: 200}}, "", 2, []time.Duration{10 * time.Millisecond}},
		{"no retry on 400", []reply{{status: 400, body: "invalid_payload"}}, "status 400: invalid_payload (not retried)", 1, nil},
		{"no retry on 404", []reply{{status: 404, body: "no_service"}}, "status 404: no_service (not retried)", 1, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newHookServer(t, tt.replies...)
			log, logs := testLogger()
			clk := clock.NewFake(time.Unix(0, 0))
			s := &Slack{Webhook: Webhook{URL: srv.hookURL(), Logger: log, Clock: clk, Backoff: 10 * time.Millisecond}}
			err := s.Notify(context.Background(), promoted)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("err = %v, want containing %q", err, tt.wantErr)
			}
			if err != nil {
				assertNoSecret(t, "error", err.Error())
				if !strings.Contains(err.Error(), "slack notify promoted: POST "+srv.URL+"/services/***") {
					t.Errorf("error does not name the redacted webhook: %v", err)
				}
			}
			if got := srv.calls.Load(); got != tt.wantCalls {
				t.Errorf("calls = %d, want %d", got, tt.wantCalls)
			}
			if fmt.Sprint(clk.Waits()) != fmt.Sprint(tt.wantWaits) {
				t.Errorf("waits = %v, want %v", clk.Waits(), tt.wantWaits)
			}
			assertNoSecret(t, "logs", logs.String())
		})
	}
}

func TestSlackTransportErrors(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	hook := srv.URL + secretPath
	srv.Close()
	log, logs := testLogger()
	clk := clock.NewFake(time.Unix(0, 0))
	err := (&Slack{Webhook: Webhook{URL: hook, Logger: log, Clock: clk, Backoff: time.Millisecond}}).Notify(context.Background(), promoted)
	if err == nil || !strings.Contains(err.Error(), "refused") {
		t.Fatalf("err = %v", err)
	}
	if len(clk.Waits()) != MaxRetries {
		t.Errorf("transport errors retried %d times, want %d", len(clk.Waits()), MaxRetries)
	}
	assertNoSecret(t, "error", err.Error())
	assertNoSecret(t, "logs", logs.String())
	if !strings.Contains(logs.String(), "retrying") {
		t.Errorf("retries not logged: %s", logs.String())
	}

	if err := (&Slack{}).Notify(context.Background(), promoted); err == nil || !strings.Contains(err.Error(), "no webhook url") {
		t.Errorf("empty URL: err = %v", err)
	}
}

func TestSlackTimeoutAndCancel(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })
	clk := clock.NewFake(time.Unix(0, 0))
	s := &Slack{Webhook: Webhook{URL: srv.URL + secretPath, Timeout: 20 * time.Millisecond, Clock: clk, Backoff: time.Millisecond}}
	err := s.Notify(context.Background(), promoted)
	if err == nil || !strings.Contains(err.Error(), "deadline exceeded") || len(clk.Waits()) != MaxRetries {
		t.Fatalf("err = %v, waits %v", err, clk.Waits())
	}
	assertNoSecret(t, "error", err.Error())

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	t.Cleanup(cancel)
	s = &Slack{Webhook: Webhook{URL: srv.URL + secretPath, Backoff: time.Hour}}
	start := time.Now()
	err = s.Notify(ctx, promoted)
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 5*time.Second {
		t.Errorf("cancelled: err = %v after %s", err, time.Since(start))
	}
	assertNoSecret(t, "error", err.Error())
}

// notifierFunc adapts a function to Notifier.
type notifierFunc func(context.Context, Event) error

func (f notifierFunc) Notify(ctx context.Context, e Event) error { return f(ctx, e) }

func TestMulti(t *testing.T) {
	bad := newHookServer(t, reply{status: 400, body: "invalid_token"})
	good := newHookServer(t, reply{status: 200})
	var called atomic.Int32
	log, logs := testLogger()
	m := Multi{Logger: log, Notifiers: []Notifier{
		&Slack{Webhook: Webhook{URL: bad.hookURL()}},
		&Slack{Webhook: Webhook{URL: good.hookURL()}},
		nil,
		notifierFunc(func(context.Context, Event) error { called.Add(1); return nil }),
		notifierFunc(func(context.Context, Event) error {
			return errors.New("post https://example.com/hooks/abc/def?token=zzz: failed")
		}),
		notifierFunc(func(context.Context, Event) error { panic("boom " + secretPath) }),
	}}
	if err := m.Notify(context.Background(), promoted); err != nil {
		t.Fatalf("Multi returned %v; it must never fail", err)
	}
	if bad.calls.Load() != 1 || good.calls.Load() != 1 || called.Load() != 1 {
		t.Errorf("calls: bad %d good %d func %d", bad.calls.Load(), good.calls.Load(), called.Load())
	}
	out := logs.String()
	for _, want := range []string{"notification failed", "invalid_token", "notifier panicked", bad.URL + "/services/***", "hooks/***"} {
		if !strings.Contains(out, want) {
			t.Errorf("logs lack %q:\n%s", want, out)
		}
	}
	assertNoSecret(t, "logs", out)
	if strings.Contains(out, "zzz") || strings.Contains(out, "abc/def") {
		t.Errorf("logs leak a URL secret:\n%s", out)
	}
	if err := (Multi{}).Notify(context.Background(), promoted); err != nil {
		t.Errorf("empty Multi: %v", err)
	}
}
