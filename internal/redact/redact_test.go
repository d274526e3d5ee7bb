package redact

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"
)

func TestURL(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"slack webhook", "https://hooks.slack.com/services/T000/B000/XXXX", "https://hooks.slack.com/services/***"},
		{"slack workflow", "https://hooks.slack.com/workflows/T1/A2/3/abc", "https://hooks.slack.com/workflows/***"},
		{"slack bare", "https://hooks.slack.com/services/", "https://hooks.slack.com/services/"},
		{"discord", "https://discord.com/api/webhooks/123456789012345678/aBcD_eFgH-iJkL", "https://discord.com/api/webhooks/***"},
		{"teams", "https://contoso.webhook.office.com/webhookb2/abc@def/IncomingWebhook/x/y", "https://contoso.webhook.office.com/webhookb2/***"},
		{"generic hooks segment", "http://127.0.0.1:8080/hooks/a/b", "http://127.0.0.1:8080/hooks/***"},
		{"token segment", "https://example.com/api/v1/0123456789abcdefXYZ/extra", "https://example.com/api/v1/***"},
		{"single token segment", "https://ntfy.example.com/abcdefghijklmnop1234", "https://ntfy.example.com/***"},
		{"jwt-ish segment", "https://example.com/x/eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig", "https://example.com/x/***"},
		{"short segments kept", "https://app.example.com/healthz/ready", "https://app.example.com/healthz/ready"},
		{"plain", "http://localhost:8080/healthz", "http://localhost:8080/healthz"},
		{"host only", "https://example.com", "https://example.com"},
		{"userinfo", "https://admin:hunter22@example.com/x", "https://***@example.com/x"},
		{"user only", "https://ghp_abcdefghijklmnopqrstuvwxyz@github.com/o/r", "https://***@github.com/o/r"},
		{"query", "https://example.com/a?token=s3cr3t&x=1&flag", "https://example.com/a?token=***&x=***&flag"},
		{"query token key", "https://example.com/a?abcdefghijklmnopqrstu", "https://example.com/a?***"},
		{"google chat", "https://chat.googleapis.com/v1/spaces/AAAA/messages?key=K&token=T", "https://chat.googleapis.com/v1/spaces/AAAA/messages?key=***&token=***"},
		{"fragment", "https://example.com/cb#access_token=abc", "https://example.com/cb#***"},
		{"relative path", "/healthz?token=abc", "/healthz?token=***"},
		{"unparseable", "http://[::1%zz/x", "***"},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := URL(tt.in); got != tt.want {
				t.Errorf("URL(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if got := URL(URL(tt.in)); got != URL(tt.in) && tt.want != Mask {
				t.Errorf("URL not idempotent: %q -> %q", URL(tt.in), got)
			}
		})
	}
}

func TestWebhookURL(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"slack", "https://hooks.slack.com/services/T000/B000/XXXX", "https://hooks.slack.com/services/***"},
		{"slack-compatible elsewhere", "http://127.0.0.1:9/services/T0A/B0B/short", "http://127.0.0.1:9/services/***"},
		{"mattermost", "https://chat.example.com/hooks/abc", "https://chat.example.com/hooks/***"},
		{"discord", "https://discord.com/api/webhooks/1/tok", "https://discord.com/api/***"},
		{"single segment", "https://ntfy.example.com/mytopic", "https://ntfy.example.com/***"},
		{"single segment trailing slash", "https://ntfy.example.com/mytopic/", "https://ntfy.example.com/***"},
		{"root", "https://gate.example.com/", "https://gate.example.com/"},
		{"no path", "https://gate.example.com", "https://gate.example.com"},
		{"token first segment", "https://h.example.com/abcdefghijklmnopqrst/x", "https://h.example.com/***"},
		{"query and userinfo", "https://u:p@h/a/b?k=v", "https://***@h/a/***?k=***"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := WebhookURL(tt.in); got != tt.want {
				t.Errorf("WebhookURL(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestText(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"no url", "connection refused", "connection refused"},
		{"quoted", `Post "https://hooks.slack.com/services/T/B/X": EOF`, `Post "https://hooks.slack.com/services/***": EOF`},
		{"trailing dot", "see https://example.com/a?t=1.", "see https://example.com/a?t=***."},
		{"two urls", "a http://h/x?k=v b http://u:p@h/", "a http://h/x?k=*** b http://***@h/"},
		{"parenthesis", "(https://example.com/hooks/abc)", "(https://example.com/hooks/***)"},
		{"dsn userinfo", "dial postgres://app:pa55word@db.internal:5432/shop failed", "dial postgres://***@db.internal:5432/shop failed"},
		{"health url userinfo and token", "GET http://user:pass@host/?token=abc", "GET http://***@host/?token=***"},
		{"relative token", "check /healthz?token=abc123 failed", "check /healthz?token=*** failed"},
		{"relative api_key among others", "/x?a=1&api_key=k3y&b=2", "/x?a=1&api_key=***&b=2"},
		{"presigned s3 without scheme", "bucket.s3.amazonaws.com/o?X-Amz-Credential=AKIA/x&X-Amz-Signature=ff00&X-Amz-Security-Token=tok",
			"bucket.s3.amazonaws.com/o?X-Amz-Credential=***&X-Amz-Signature=***&X-Amz-Security-Token=***"},
		{"sig and password", "?sig=zz&password=hunter2", "?sig=***&password=***"},
		{"ordinary key=value text kept", "set key=value and monkey=banana", "set key=value and monkey=banana"},
		{"non-secret param kept", "/healthz?verbose=1", "/healthz?verbose=1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Text(tt.in); got != tt.want {
				t.Errorf("Text(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestEnv(t *testing.T) {
	in := []string{
		"PATH=/usr/bin",
		"GITHUB_TOKEN=ghp_abc123",
		"db_password=pw1234",
		"AWS_SECRET_ACCESS_KEY=abcd",
		"SLACK_WEBHOOK_URL=https://hooks.slack.com/services/T/B/X",
		"API_CREDENTIALS=c",
		"PREVIEW_URL=https://u:p@preview.example.com/?sig=zzz",
		"EMPTY_TOKEN=",
		"NOEQUALS",
	}
	want := []string{
		"PATH=/usr/bin",
		"GITHUB_TOKEN=***",
		"db_password=***",
		"AWS_SECRET_ACCESS_KEY=***",
		"SLACK_WEBHOOK_URL=***",
		"API_CREDENTIALS=***",
		"PREVIEW_URL=https://***@preview.example.com/?sig=***",
		"EMPTY_TOKEN=",
		"NOEQUALS",
	}
	got := Env(in)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("Env:\n got %q\nwant %q", got, want)
	}
	if in[1] != "GITHUB_TOKEN=ghp_abc123" {
		t.Errorf("Env modified its input")
	}
}

func TestString(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		secrets []string
		want    string
	}{
		{"single", "token is abcd1234 ok", []string{"abcd1234"}, "token is *** ok"},
		{"repeated", "x-abcd-abcd", []string{"abcd"}, "x-***-***"},
		{"longest first", "sekret-sekret2", []string{"sekret", "sekret-sekret2"}, "***"},
		{"too short ignored", "a 1 b", []string{"1", ""}, "a 1 b"},
		{"stop word ignored", "enabled: true", []string{"true"}, "enabled: true"},
		{"urls redacted too", "GET https://h/p?token=abc failed", nil, "GET https://h/p?token=*** failed"},
		{"slack parts", "posted to T000/B000/XXXX", []string{"https://hooks.slack.com/services/T000/B000/XXXX"}, "posted to ***"},
		{"url password part", "auth failed for hunter22", []string{"https://admin:hunter22@example.com"}, "auth failed for ***"},
		{"bearer credential", "echo tok-12345", []string{"Bearer tok-12345"}, "echo ***"},
		{"webhook tail part", "boom /services/T0A/B0B/short", []string{"http://127.0.0.1:9/services/T0A/B0B/short"}, "boom /services/***"},
		{"query value part", "bad sig q1w2e3r4", []string{"https://example.com/?sig=q1w2e3r4"}, "bad sig ***"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := String(tt.in, tt.secrets...); got != tt.want {
				t.Errorf("String(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestSecrets(t *testing.T) {
	var zero Secrets
	if got := zero.String("plain"); got != "plain" {
		t.Errorf("zero Secrets changed text: %q", got)
	}
	var nilSet *Secrets
	if got := nilSet.Replace("http://h/?a=b"); got != "http://h/?a=b" {
		t.Errorf("nil Replace: %q", got)
	}
	if got := nilSet.String("http://h/?a=b"); got != "http://h/?a=***" {
		t.Errorf("nil Secrets: %q", got)
	}
	if nilSet.Len() != 0 {
		t.Errorf("nil Len != 0")
	}

	s := NewSecrets("first-secret")
	s.AddEnv([]string{"HOME=/root", "MY_API_KEY=key-value-1", "DEBUG_KEY=1", "NO_SEPARATOR"})
	if s.Len() != 2 {
		t.Errorf("Len = %d, want 2", s.Len())
	}
	if got := s.Replace("first-secret http://h/?a=b"); got != "*** http://h/?a=b" {
		t.Errorf("Replace = %q", got)
	}
	got := s.String("first-secret key-value-1 /root 1")
	if want := "*** *** /root 1"; got != want {
		t.Errorf("String = %q, want %q", got, want)
	}

	// Concurrent Add and String must be race-free.
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v := fmt.Sprintf("concurrent-%d", i)
			s.Add(v)
			if out := s.String("x " + v); strings.Contains(out, v) {
				t.Errorf("value %q not hidden: %q", v, out)
			}
		}()
	}
	wg.Wait()
}

func TestIsSecretKey(t *testing.T) {
	tests := map[string]bool{
		"GITHUB_TOKEN": true, "client_secret": true, "PGPASSWORD": true, "SSH_KEY": true,
		"GOOGLE_APPLICATION_CREDENTIALS": true, "SLACK_WEBHOOK": true, "HTPASSWD": true,
		"PATH": false, "HOME": false, "PREVIEW_URL": false, "APP": false,
	}
	for key, want := range tests {
		if got := IsSecretKey(key); got != want {
			t.Errorf("IsSecretKey(%q) = %v, want %v", key, got, want)
		}
	}
}

func TestURLError(t *testing.T) {
	inner := errors.New("connection refused")
	err := &url.Error{Op: "Post", URL: "https://hooks.slack.com/services/T/B/X", Err: inner}
	got := URLError(err)
	if strings.Contains(got.Error(), "T/B/X") {
		t.Errorf("URLError leaked path: %v", got)
	}
	if !errors.Is(got, inner) {
		t.Errorf("URLError broke the chain")
	}
	var ue *url.Error
	if !errors.As(got, &ue) {
		t.Errorf("URLError changed the type")
	}
	plain := errors.New("x")
	if URLError(plain) != plain || URLError(nil) != nil { //nolint:errorlint // identity: the same error must come back
		t.Errorf("URLError changed a non-url error")
	}
	wrapped := fmt.Errorf("wrap: %w", err)
	if URLError(wrapped) != wrapped { //nolint:errorlint // identity: the same error must come back
		t.Errorf("URLError should leave wrapped errors alone")
	}
}

// AddURL hides a URL's credentials and query values where they are echoed on
// their own, but not the URL's host and path.
func TestAddURL(t *testing.T) {
	s := NewSecrets()
	s.AddURL("http://user:pa55word@health.internal/healthz?token=tok3n-abc")
	s.AddURL("") // no URL, nothing added
	got := s.String("auth pa55word failed, token tok3n-abc; health.internal/healthz is fine")
	if want := "auth *** failed, token ***; health.internal/healthz is fine"; got != want {
		t.Errorf("String = %q, want %q", got, want)
	}
}
