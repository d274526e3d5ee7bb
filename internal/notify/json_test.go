package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/bluegreen/bluegreen/internal/clock"
	"github.com/bluegreen/bluegreen/internal/redact"
)

func TestJSONWebhookPayload(t *testing.T) {
	at := time.Date(2025, 3, 4, 5, 6, 7, 0, time.FixedZone("CET", 3600))
	tests := []struct {
		name    string
		event   Event
		secrets *redact.Secrets
		want    map[string]string
	}{
		{"all fields", func() Event { e := promoted; e.Time = at; return e }(), nil, map[string]string{
			"kind": "promoted", "app": "myapp", "namespace": "prod", "run": "01HRUN", "fromColor": "blue",
			"toColor": "green", "image": "reg/myapp:1.2", "message": "", "time": "2025-03-04T04:06:07Z"}},
		{"stable keys when empty, clock time", Event{Kind: KindStarted}, nil, map[string]string{
			"kind": "started", "app": "", "namespace": "", "run": "", "fromColor": "", "toColor": "",
			"image": "", "message": "", "time": "1970-01-01T00:00:00Z"}},
		{"secrets redacted", Event{Kind: KindFailed, App: "a", Time: at, Message: "login db-pass-123 refused at https://x/y?token=abc"},
			redact.NewSecrets("db-pass-123"), map[string]string{
				"kind": "failed", "app": "a", "namespace": "", "run": "", "fromColor": "", "toColor": "", "image": "",
				"message": "login *** refused at https://x/y?token=***", "time": "2025-03-04T04:06:07Z"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newHookServer(t, reply{status: 204})
			j := &JSONWebhook{Webhook: Webhook{URL: srv.hookURL(), Secrets: tt.secrets, Clock: clock.NewFake(time.Unix(0, 0))}}
			if err := j.Notify(context.Background(), tt.event); err != nil {
				t.Fatal(err)
			}
			var got map[string]string
			if err := json.Unmarshal(srv.lastBody(), &got); err != nil {
				t.Fatalf("payload %s: %v", srv.lastBody(), err)
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("payload\n%v\nwant\n%v", got, tt.want)
			}
		})
	}
}

func TestJSONWebhookRetriesAndRedaction(t *testing.T) {
	tests := []struct {
		name      string
		replies   []reply
		wantErr   string
		wantCalls int32
	}{
		{"retry on 503", []reply{{status: 503}, {status: 503}, {status: 200}}, "", 3},
		{"give up after 3 retries", []reply{{status: 503, body: "down " + secretPath}}, "status 503: down /services/***", 4},
		{"no retry on 400", []reply{{status: 400, body: "bad " + secretPath}}, "status 400: bad /services/*** (not retried)", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newHookServer(t, tt.replies...)
			log, logs := testLogger()
			j := &JSONWebhook{Webhook: Webhook{URL: srv.hookURL(), Logger: log, Clock: clock.NewFake(time.Unix(0, 0)), Backoff: time.Millisecond}}
			// Multi logs what the notifier returns: both must hide the URL.
			err := j.Notify(context.Background(), promoted)
			calls := srv.calls.Load()
			_ = Multi{Notifiers: []Notifier{j}, Logger: log}.Notify(context.Background(), promoted)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("err = %v, want containing %q", err, tt.wantErr)
			}
			if err != nil {
				assertNoSecret(t, "error", err.Error())
				if !strings.Contains(err.Error(), "json webhook notify promoted: POST "+srv.URL+"/services/***") {
					t.Errorf("error does not name the redacted webhook: %v", err)
				}
				if !strings.Contains(logs.String(), "json webhook "+srv.URL+"/services/***") {
					t.Errorf("Multi does not log the redacted webhook: %s", logs.String())
				}
			}
			if calls != tt.wantCalls {
				t.Errorf("calls = %d, want %d", calls, tt.wantCalls)
			}
			assertNoSecret(t, "logs", logs.String())
		})
	}
	if err := (&JSONWebhook{}).Notify(context.Background(), promoted); err == nil || !strings.Contains(err.Error(), "no webhook url") {
		t.Errorf("empty URL: %v", err)
	}
}
