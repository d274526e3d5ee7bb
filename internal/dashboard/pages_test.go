package dashboard_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/bluegreen/bluegreen/internal/clock"
	"github.com/bluegreen/bluegreen/internal/dashboard"
)

// hostile is a source whose every text is markup: what a step's error or
// an image name could carry.
type hostile struct{}

const evil = `<img src=x onerror="alert(1)">`

func (hostile) Apps(context.Context) ([]dashboard.AppRow, error) {
	return []dashboard.AppRow{{Namespace: "prod", App: "shop", Scope: "service", Active: "blue", Image: evil, Operation: evil, State: evil}}, nil
}

func (hostile) App(_ context.Context, ns, app string) (*dashboard.App, error) {
	return &dashboard.App{Namespace: ns, App: app, Scope: "service", Active: "blue", Rollback: evil,
		Colors:   []dashboard.Color{{Name: "blue", Deployment: evil, Exists: true, Image: evil}},
		Services: []dashboard.Service{{Name: evil, Selects: evil}},
		Run: &dashboard.Run{RunBrief: dashboard.RunBrief{ID: evil, Operation: evil, State: evil, Reason: evil},
			Steps: []dashboard.Step{{Name: evil, Description: evil, State: evil, Note: evil, Error: evil}}},
		Runs:    []dashboard.RunBrief{{ID: evil, Actor: evil, Reason: evil}},
		Refused: map[dashboard.Verb]string{dashboard.Promote: evil}, Command: map[dashboard.Verb]string{dashboard.Rollback: evil}}, nil
}

func (hostile) Do(context.Context, string, string, dashboard.Verb) error { return nil }

// Every value a page shows is escaped: markup in a record or an object
// shows as text, never as markup.
func TestPagesEscapeWhatTheyShow(t *testing.T) {
	srv, err := dashboard.New(dashboard.Config{Source: hostile{}, Clock: clock.Real{}, Log: slog.New(slog.DiscardHandler), Title: evil})
	if err != nil {
		t.Fatal(err)
	}
	h := srv.Handler()
	for _, path := range []string{"/", "/apps/prod/shop", "/apps/prod/Not_A_Name"} {
		for _, fragment := range []bool{false, true} {
			req := httptest.NewRequestWithContext(t.Context(), http.MethodGet, path, nil)
			if fragment {
				req.Header.Set("X-Bluegreen-Fragment", "1")
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			body, _ := io.ReadAll(rec.Body)
			if strings.Contains(string(body), "<img") {
				t.Fatalf("GET %s (fragment %v) writes markup it was given:\n%s", path, fragment, body)
			}
			if path != "/apps/prod/Not_A_Name" && !strings.Contains(string(body), "&lt;img") {
				t.Fatalf("GET %s (fragment %v) does not show the values:\n%s", path, fragment, body)
			}
			if csp := rec.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
				t.Fatalf("GET %s: Content-Security-Policy %q", path, csp)
			}
		}
	}
}

// An app page refreshes as often as asked; the list, which reads two
// objects an app, every 10 s at the most.
func TestTheListRefreshesLessOften(t *testing.T) {
	srv, err := dashboard.New(dashboard.Config{Source: hostile{}, Clock: clock.Real{}, Log: slog.New(slog.DiscardHandler), Refresh: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{"/": `data-refresh="10000"`, "/apps/prod/shop": `data-refresh="2000"`} {
		rec := httptest.NewRecorder()
		srv.Handler().ServeHTTP(rec, httptest.NewRequestWithContext(t.Context(), http.MethodGet, path, nil))
		if body := rec.Body.String(); !strings.Contains(body, want) {
			t.Errorf("GET %s: want %s in\n%s", path, want, body)
		}
	}
}
