package check

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// secretPath is the token part of test webhook URLs; it must never leak.
const secretPath = "/hooks/T0SECRET/B0SECRET/xoxSECRETpathTOKEN123"

func TestWebhookRun(t *testing.T) {
	target := Target{App: "myapp", Namespace: "prod", Color: "green", Image: "reg/myapp:2", BaseURL: "https://preview", Phase: "preview"}
	tests := []struct {
		name       string
		status     int
		body       string
		delay      time.Duration
		wantPass   bool
		wantDetail string
	}{
		{name: "ok", status: 200, body: `{"ok":true}`, wantPass: true, wantDetail: `status 200; body: {"ok":true}`},
		{name: "accepted", status: 202, wantPass: true, wantDetail: "status 202"},
		{name: "denied", status: 403, body: "denied for " + headerSecret, wantDetail: "status 403, want 2xx; body: denied for ***"},
		{name: "error echoes url", status: 500, body: "bad request to " + secretPath, wantDetail: "status 500"},
		{name: "timeout", status: 200, delay: time.Second, wantDetail: "no answer within 50ms"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, seen := gateServer(t, tt.status, tt.body, tt.delay)
			log, logs := testLogger(t)
			w, err := NewWebhook("gate", WebhookConfig{
				URL:     srv.URL + secretPath,
				Headers: map[string]string{"X-Gate-Token": headerSecret},
				Timeout: Duration(50 * time.Millisecond),
			}, Defaults{}, WithLogger(log))
			if err != nil {
				t.Fatal(err)
			}
			res, err := w.Run(context.Background(), target)
			if err != nil {
				t.Fatal(err)
			}
			if res.Passed != tt.wantPass || !strings.Contains(res.Detail, tt.wantDetail) {
				t.Errorf("passed=%v detail %q, want %v %q", res.Passed, res.Detail, tt.wantPass, tt.wantDetail)
			}
			want := map[string]any{"app": "myapp", "namespace": "prod", "color": "green", "image": "reg/myapp:2", "baseURL": "https://preview", "phase": "preview"}
			got := <-seen
			if !mapsEqual(got.payload, want) {
				t.Errorf("payload %v, want %v", got.payload, want)
			}
			if got.token != headerSecret || got.ctype != "application/json" {
				t.Errorf("headers: token %q content-type %q", got.token, got.ctype)
			}
			for _, out := range []string{res.Detail, logs.String()} {
				if strings.Contains(out, "SECRET") || strings.Contains(out, headerSecret) {
					t.Errorf("secret leaked: %q", out)
				}
			}
		})
	}
}

// captured is what the test gate saw of a request.
type captured struct {
	payload      map[string]any
	token, ctype string
}

// gateServer answers POSTs to secretPath with status and body after delay.
func gateServer(t *testing.T, status int, body string, delay time.Duration) (*httptest.Server, <-chan captured) {
	t.Helper()
	seen := make(chan captured, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var c captured
		b, _ := io.ReadAll(r.Body)
		_ = json.Unmarshal(b, &c.payload)
		c.token, c.ctype = r.Header.Get("X-Gate-Token"), r.Header.Get("Content-Type")
		seen <- c
		if r.Method != http.MethodPost || r.URL.Path != secretPath {
			w.WriteHeader(http.StatusTeapot)
			return
		}
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv, seen
}

func TestWebhookUnreachable(t *testing.T) {
	for _, path := range []string{secretPath, "/services/T0SECRET/B0SECRET/shortSECRET"} {
		t.Run(path, func(t *testing.T) { testWebhookUnreachable(t, path) })
	}
}

func testWebhookUnreachable(t *testing.T, path string) {
	srv := httptest.NewServer(http.NotFoundHandler())
	u := srv.URL + path
	srv.Close()
	log, logs := testLogger(t)
	w, err := NewWebhook("gate", WebhookConfig{URL: u}, Defaults{}, WithLogger(log))
	if err != nil {
		t.Fatal(err)
	}
	res, err := w.Run(context.Background(), Target{})
	if err != nil || res.Passed || !strings.Contains(res.Detail, "refused") {
		t.Errorf("res %+v err %v", res, err)
	}
	if strings.Contains(res.Detail+logs.String(), "SECRET") {
		t.Errorf("secret leaked: %q %q", res.Detail, logs.String())
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := w.Run(ctx, Target{}); !errors.Is(err, context.Canceled) || strings.Contains(err.Error(), "SECRET") {
		t.Errorf("cancelled: err = %v", err)
	}
}

func mapsEqual(a, b map[string]any) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range b {
		if a[k] != v {
			return false
		}
	}
	return true
}

// At namespace scope the hook also learns the service and the Host header
// that reaches the color through the gateway at baseURL.
func TestWebhookNamespaceScopeFields(t *testing.T) {
	srv, seen := gateServer(t, 200, "", 0)
	w, err := NewWebhook("gate", WebhookConfig{URL: srv.URL + secretPath}, Defaults{})
	if err != nil {
		t.Fatal(err)
	}
	target := Target{App: "payments", Namespace: "payments-green", Color: "green", BaseURL: "http://10.0.0.5:80", Phase: "preview", Service: "payment", Host: "preprod.myapp.com"}
	if res, err := w.Run(context.Background(), target); err != nil || !res.Passed {
		t.Fatalf("res %+v err %v", res, err)
	}
	want := map[string]any{"app": "payments", "namespace": "payments-green", "color": "green", "image": "", "baseURL": "http://10.0.0.5:80", "phase": "preview", "service": "payment", "host": "preprod.myapp.com"}
	if got := <-seen; !mapsEqual(got.payload, want) {
		t.Errorf("payload %v, want %v", got.payload, want)
	}
}
