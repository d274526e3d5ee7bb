package check

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bluegreen/bluegreen/internal/clock"
)

const headerSecret = "hdr-secret-value-42"

// flakyServer answers status fail for the first n requests, then 200 "ok".
func flakyServer(t *testing.T, n int32, fail int, body string) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) <= n {
			w.WriteHeader(fail)
			fmt.Fprint(w, body)
			return
		}
		fmt.Fprint(w, "status: ok")
	}))
	t.Cleanup(srv.Close)
	return srv, &calls
}

func TestHTTPRun(t *testing.T) {
	longBody := strings.Repeat("x", 500) + " " + headerSecret
	tests := []struct {
		name       string
		failFirst  int32
		failStatus int
		failBody   string
		cfg        HTTPConfig
		wantPass   bool
		wantTries  int
		wantDetail []string
	}{
		{name: "first try", cfg: HTTPConfig{URL: "/healthz"}, wantPass: true, wantTries: 1, wantDetail: []string{"attempt 1/3: status 200"}},
		{name: "third try", failFirst: 2, failStatus: 503, cfg: HTTPConfig{URL: "/healthz"}, wantPass: true, wantTries: 3},
		{name: "exhausted", failFirst: 99, failStatus: 503, failBody: "down for " + headerSecret,
			cfg: HTTPConfig{URL: "/healthz"}, wantTries: 3,
			wantDetail: []string{"attempt 3/3: status 503, want 2xx; body: down for ***"}},
		{name: "long body cut", failFirst: 99, failStatus: 500, failBody: longBody,
			cfg: HTTPConfig{URL: "/healthz", Retries: 1}, wantTries: 1, wantDetail: []string{"xxx..."}},
		{name: "expect status", failFirst: 99, failStatus: 204, cfg: HTTPConfig{URL: "/healthz", ExpectStatus: 204}, wantPass: true, wantTries: 1},
		{name: "expect status mismatch", cfg: HTTPConfig{URL: "/healthz", ExpectStatus: 204, Retries: 2}, wantTries: 2, wantDetail: []string{"status 200, want 204"}},
		{name: "body contains", cfg: HTTPConfig{URL: "/healthz", BodyContains: "ok"}, wantPass: true, wantTries: 1},
		{name: "body missing", cfg: HTTPConfig{URL: "/healthz", BodyContains: "ready", Retries: 2}, wantTries: 2,
			wantDetail: []string{`body does not contain "ready"; body: status: ok`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, calls := flakyServer(t, tt.failFirst, tt.failStatus, tt.failBody)
			log, logs := testLogger(t)
			cfg := tt.cfg
			cfg.Interval = Duration(time.Millisecond)
			cfg.Headers = map[string]string{"Authorization": "Bearer " + headerSecret}
			h, err := NewHTTP("hc", cfg, Defaults{Retries: 3, Timeout: time.Second}, WithLogger(log))
			if err != nil {
				t.Fatal(err)
			}
			res, err := h.Run(context.Background(), Target{BaseURL: srv.URL})
			if err != nil {
				t.Fatal(err)
			}
			if res.Passed != tt.wantPass || res.Attempts != tt.wantTries || int(calls.Load()) != tt.wantTries {
				t.Errorf("got passed=%v attempts=%d calls=%d, want %v %d; detail %q",
					res.Passed, res.Attempts, calls.Load(), tt.wantPass, tt.wantTries, res.Detail)
			}
			for _, want := range tt.wantDetail {
				if !strings.Contains(res.Detail, want) {
					t.Errorf("Detail %q does not contain %q", res.Detail, want)
				}
			}
			if _, body, ok := strings.Cut(res.Detail, "body: "); ok && len(body) > maxExcerpt {
				t.Errorf("body excerpt is %d bytes, want at most %d", len(body), maxExcerpt)
			}
			if strings.Contains(res.Detail, headerSecret) || strings.Contains(logs.String(), headerSecret) {
				t.Errorf("secret leaked: detail %q logs %q", res.Detail, logs.String())
			}
			if res.Name != "hc" || res.Elapsed <= 0 {
				t.Errorf("name %q elapsed %s", res.Name, res.Elapsed)
			}
		})
	}
}

func TestHTTPRequestShape(t *testing.T) {
	type seen struct{ method, path, query, host, auth string }
	got := make(chan seen, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- seen{r.Method, r.URL.Path, r.URL.RawQuery, r.Host, r.Header.Get("Authorization")}
	}))
	t.Cleanup(srv.Close)
	h, err := NewHTTP("shape", HTTPConfig{
		URL:     "/healthz/?deep=1",
		Method:  "head",
		Headers: map[string]string{"Host": "myapp.example.com", "Authorization": "Bearer t"},
	}, Defaults{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := h.Run(context.Background(), Target{BaseURL: srv.URL + "/prefix/"})
	if err != nil || !res.Passed {
		t.Fatalf("res %+v err %v", res, err)
	}
	want := seen{"HEAD", "/prefix/healthz/", "deep=1", "myapp.example.com", "Bearer t"}
	if s := <-got; s != want {
		t.Errorf("request %+v, want %+v", s, want)
	}
}

func TestHTTPErrors(t *testing.T) {
	h, err := NewHTTP("rel", HTTPConfig{URL: "/healthz"}, Defaults{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.Run(context.Background(), Target{}); !errors.Is(err, errNoBaseURL) || !strings.Contains(err.Error(), `http check "rel"`) {
		t.Errorf("no BaseURL: err = %v", err)
	}
	if _, err := h.Run(context.Background(), Target{BaseURL: "preview.local"}); err == nil || !strings.Contains(err.Error(), "base url") {
		t.Errorf("relative BaseURL: err = %v", err)
	}
	if _, err := NewHTTP("bad", HTTPConfig{URL: "nope"}, Defaults{}); err == nil || !strings.Contains(err.Error(), `http check "bad": url nope: not absolute`) {
		t.Errorf("NewHTTP invalid: err = %v", err)
	}
}

func TestHTTPConnectionRefusedFails(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	base := srv.URL
	srv.Close()
	h, err := NewHTTP("down", HTTPConfig{URL: base + "/hooks/secret-path?token=abc", Retries: 2, Interval: Duration(time.Millisecond)}, Defaults{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := h.Run(context.Background(), Target{})
	if err != nil {
		t.Fatalf("connection refused should fail the check, not error: %v", err)
	}
	if res.Passed || res.Attempts != 2 || !strings.Contains(res.Detail, "refused") {
		t.Errorf("res %+v", res)
	}
	if strings.Contains(res.Detail, "secret-path") || strings.Contains(res.Detail, "abc") {
		t.Errorf("detail leaks URL secrets: %q", res.Detail)
	}
}

func TestHTTPAttemptTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })
	h, err := NewHTTP("slow", HTTPConfig{URL: srv.URL, Retries: 2, Interval: Duration(time.Millisecond), Timeout: Duration(20 * time.Millisecond)}, Defaults{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := h.Run(context.Background(), Target{})
	if err != nil || res.Passed || res.Attempts != 2 || !strings.Contains(res.Detail, "no answer within 20ms") {
		t.Errorf("res %+v err %v", res, err)
	}
}

// SMOKE_TEST_TIMEOUT bounds a smoke test, not an HTTP attempt: a health
// endpoint slower than a (short) smoke budget still passes.
func TestSmokeTimeoutDoesNotBoundHTTPAttempts(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(200 * time.Millisecond):
			fmt.Fprint(w, "ok")
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(srv.Close)
	d, err := DefaultsFromEnv(func(k string) (string, bool) {
		v, ok := map[string]string{EnvSmokeTimeout: "20ms"}[k]
		return v, ok
	})
	if err != nil {
		t.Fatal(err)
	}
	h, err := NewHTTP("slow-but-healthy", HTTPConfig{URL: srv.URL, Retries: 1}, d)
	if err != nil {
		t.Fatal(err)
	}
	if res, err := h.Run(context.Background(), Target{}); err != nil || !res.Passed {
		t.Fatalf("res %+v err %v, want a pass: SMOKE_TEST_TIMEOUT must not bound HTTP attempts", res, err)
	}
}

func TestHTTPCancelBetweenAttempts(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
		cancel() // the caller gives up while the check waits to retry
	}))
	t.Cleanup(srv.Close)
	h, err := NewHTTP("cancel", HTTPConfig{URL: srv.URL, Retries: 5, Interval: Duration(time.Hour)}, Defaults{})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	res, err := h.Run(ctx, Target{})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if res.Passed || res.Attempts != 1 || time.Since(start) > 5*time.Second {
		t.Errorf("res %+v after %s", res, time.Since(start))
	}
}

func TestHTTPUsesClockForInterval(t *testing.T) {
	srv, _ := flakyServer(t, 99, 503, "")
	clk := clock.NewFake(time.Unix(0, 0))
	d, err := DefaultsFromEnv(func(k string) (string, bool) {
		return map[string]string{EnvRetries: "4", EnvInterval: "5"}[k], true
	})
	if err != nil {
		t.Fatal(err)
	}
	h, err := NewHTTP("clock", HTTPConfig{URL: srv.URL}, d, WithClock(clk))
	if err != nil {
		t.Fatal(err)
	}
	res, err := h.Run(context.Background(), Target{})
	if err != nil || res.Passed || res.Attempts != 4 {
		t.Fatalf("res %+v err %v", res, err)
	}
	want := []time.Duration{5 * time.Second, 5 * time.Second, 5 * time.Second}
	if fmt.Sprint(clk.Waits()) != fmt.Sprint(want) || res.Elapsed != 15*time.Second {
		t.Errorf("waits %v elapsed %s, want %v and 15s", clk.Waits(), res.Elapsed, want)
	}
}

// A gateway routes by Host: a path check sent to a gateway carries the
// target's host, a check's own Host header wins, and an absolute url keeps
// its own host.
func TestHTTPHostOfTheTarget(t *testing.T) {
	got := make(chan string, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got <- r.Host }))
	t.Cleanup(srv.Close)
	srvHost := strings.TrimPrefix(srv.URL, "http://")
	for _, tc := range []struct {
		name, url, header, targetHost, want string
	}{
		{name: "path takes the target's host", url: "/healthz", targetHost: "preprod.myapp.com", want: "preprod.myapp.com"},
		{name: "the check's header wins", url: "/healthz", header: "other.myapp.com", targetHost: "preprod.myapp.com", want: "other.myapp.com"},
		{name: "no target host: the base url's", url: "/healthz", want: srvHost},
		{name: "absolute url keeps its host", url: srv.URL + "/healthz", targetHost: "preprod.myapp.com", want: srvHost},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := HTTPConfig{URL: tc.url, Retries: 1}
			if tc.header != "" {
				cfg.Headers = map[string]string{"host": tc.header}
			}
			h, err := NewHTTP("host", cfg, Defaults{})
			if err != nil {
				t.Fatal(err)
			}
			res, err := h.Run(context.Background(), Target{BaseURL: srv.URL, Host: tc.targetHost})
			if err != nil || !res.Passed {
				t.Fatalf("res %+v err %v", res, err)
			}
			if h := <-got; h != tc.want {
				t.Errorf("Host %q, want %q", h, tc.want)
			}
		})
	}
}
