package check

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

const apiKey = "api-key-must-stay-home-7f3a"

// hostLog records the requests one test server received.
type hostLog struct {
	mu   sync.Mutex
	reqs []http.Header
}

func (l *hostLog) add(h http.Header) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.reqs = append(l.reqs, h.Clone())
}

func (l *hostLog) all() []http.Header {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]http.Header(nil), l.reqs...)
}

// redirectServers starts two real HTTP servers on loopback (two ports, so
// two hosts): home answers /ok with 200, redirects /same to /ok and /away to
// other's /landing; other answers everything with a 200 whose body must never
// be quoted.
func redirectServers(t *testing.T) (home, other *httptest.Server, homeLog, otherLog *hostLog) {
	t.Helper()
	homeLog, otherLog = &hostLog{}, &hostLog{}
	other = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		otherLog.add(r.Header)
		_, _ = w.Write([]byte("other host body"))
	}))
	t.Cleanup(other.Close)
	home = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		homeLog.add(r.Header)
		switch r.URL.Path {
		case "/same":
			http.Redirect(w, r, "/ok", http.StatusTemporaryRedirect)
		case "/away":
			http.Redirect(w, r, other.URL+"/landing", http.StatusTemporaryRedirect)
		default:
			_, _ = w.Write([]byte("ok"))
		}
	}))
	t.Cleanup(home.Close)
	return home, other, homeLog, otherLog
}

// A redirect to another host must not carry the check's headers there. This
// is the default policy: no config field is needed.
func TestHTTPRedirectToOtherHostIsRefused(t *testing.T) {
	home, other, _, otherLog := redirectServers(t)
	h, err := NewHTTP("hc", HTTPConfig{URL: home.URL + "/away", Retries: 1,
		Headers: map[string]string{"X-Api-Key": apiKey}}, Defaults{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	res, err := h.Run(context.Background(), Target{})
	if err != nil {
		t.Fatal(err)
	}
	if got := otherLog.all(); len(got) != 0 {
		t.Fatalf("the other host got %d request(s), first with X-Api-Key %q", len(got), got[0].Get("X-Api-Key"))
	}
	if res.Passed || !strings.Contains(res.Detail, "redirected to other host "+other.URL) ||
		!strings.Contains(res.Detail, "redirects: any") {
		t.Fatalf("res %+v, want a failure naming the other host and the redirects field", res)
	}
}

func TestRedirectPolicies(t *testing.T) {
	tests := []struct {
		name      string
		path      string
		redirects string
		expect    int
		wantPass  bool
		wantOther int // requests the other host sees
		wantHome  int // requests home sees carrying the key
	}{
		{name: "same host followed by default", path: "/same", wantPass: true, wantHome: 2},
		{name: "other host refused by default", path: "/away", wantHome: 1},
		{name: "same-host named", path: "/same", redirects: RedirectSameHost, wantPass: true, wantHome: 2},
		{name: "none judges the 3xx", path: "/same", redirects: RedirectNone, wantHome: 1},
		{name: "none with expectStatus 307", path: "/same", redirects: RedirectNone, expect: 307, wantPass: true, wantHome: 1},
		{name: "any follows without headers", path: "/away", redirects: RedirectAny, wantPass: true, wantOther: 1, wantHome: 1},
	}
	for _, tt := range tests {
		for _, kind := range []string{"http", "webhook"} {
			if kind == "webhook" && tt.expect != 0 {
				continue // a webhook check has no expectStatus
			}
			t.Run(kind+"/"+tt.name, func(t *testing.T) {
				home, _, homeLog, otherLog := redirectServers(t)
				headers := map[string]string{"X-Api-Key": apiKey, "Authorization": "Bearer " + apiKey}
				var c Check
				var err error
				if kind == "http" {
					c, err = NewHTTP("hc", HTTPConfig{URL: home.URL + tt.path, Retries: 1, ExpectStatus: tt.expect,
						Headers: headers, Redirects: tt.redirects}, Defaults{Timeout: time.Second})
				} else {
					c, err = NewWebhook("gate", WebhookConfig{URL: home.URL + tt.path, Headers: headers, Redirects: tt.redirects},
						Defaults{Timeout: time.Second})
				}
				if err != nil {
					t.Fatal(err)
				}
				res, err := c.Run(context.Background(), Target{})
				if err != nil {
					t.Fatal(err)
				}
				if res.Passed != tt.wantPass {
					t.Errorf("passed %v, want %v; detail %q", res.Passed, tt.wantPass, res.Detail)
				}
				keyed := 0
				for _, h := range homeLog.all() {
					if h.Get("X-Api-Key") == apiKey {
						keyed++
					}
				}
				if keyed != tt.wantHome {
					t.Errorf("home saw the key %d time(s), want %d", keyed, tt.wantHome)
				}
				seen := otherLog.all()
				if len(seen) != tt.wantOther {
					t.Errorf("other host got %d request(s), want %d", len(seen), tt.wantOther)
				}
				for _, h := range seen {
					if h.Get("X-Api-Key") != "" || h.Get("Authorization") != "" {
						t.Errorf("other host got credentials: X-Api-Key %q Authorization %q", h.Get("X-Api-Key"), h.Get("Authorization"))
					}
				}
				if strings.Contains(res.Detail, apiKey) {
					t.Errorf("detail leaks the key: %q", res.Detail)
				}
			})
		}
	}
}

func TestRedirectsValidate(t *testing.T) {
	for _, cfg := range []Spec{
		{Name: "h", HTTP: &HTTPConfig{URL: "/healthz", Redirects: "always"}},
		{Name: "w", Webhook: &WebhookConfig{URL: "https://gate.example.com/x", Redirects: "SAME"}},
	} {
		if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "want same-host (default), none or any") {
			t.Errorf("%s: err = %v, want the allowed values", cfg.Name, err)
		}
	}
}

// A long body is cut to maxExcerpt bytes and says how long it was.
func TestExcerptSaysSize(t *testing.T) {
	body := strings.Repeat("y", 5000)
	got := excerpt(redactor{}, []byte(body))
	if len(got) > maxExcerpt || !strings.HasSuffix(got, "... (5000 bytes)") {
		t.Fatalf("excerpt = %q (%d bytes), want at most %d ending in the size", got, len(got), maxExcerpt)
	}
}
