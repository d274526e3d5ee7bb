package cli

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/bluegreen/bluegreen/internal/clock"
	"github.com/bluegreen/bluegreen/internal/kube"
	"github.com/bluegreen/bluegreen/internal/notify"
	"github.com/bluegreen/bluegreen/test/awsfake"
)

// hookSecret is the secret path of the test webhooks.
const hookSecret = "/hooks/T0/B0/Zq8notifySecret"

func TestNotifyFlags(t *testing.T) {
	const topic = "arn:aws:sns:eu-west-1:123456789012:releases"
	tests := []struct {
		name     string
		args     []string
		env      map[string]string
		wantCode int
		wantErr  string
	}{
		{name: "all forms", args: []string{"--notify-webhook", "https://hooks.example.com" + hookSecret,
			"--notify", "slack+https://hooks.example.com" + hookSecret, "--notify", "json+http://127.0.0.1:9/x",
			"--notify", "sns:" + topic, "--aws-endpoint", "http://127.0.0.1:4566"}},
		{name: "env", env: map[string]string{"BLUEGREEN_NOTIFY": "json+https://h.example.com" + hookSecret + ",sns:" + topic}},
		{name: "bad sns arn", args: []string{"--notify", "sns:arn:aws:sns:eu-west-1:123:releases"}, wantCode: ExitInvalid,
			wantErr: `--notify sns:arn:aws:sns:eu-west-1:123:releases: sns topic "arn:aws:sns:eu-west-1:123:releases": account "123" is not 12 digits`},
		{name: "sqs arn", args: []string{"--notify", "sns:arn:aws:sqs:eu-west-1:123456789012:q"}, wantCode: ExitInvalid, wantErr: "is not an sns topic"},
		{name: "unknown scheme", args: []string{"--notify", "teams+https://hooks.example.com" + hookSecret}, wantCode: ExitInvalid,
			wantErr: "unknown notification target; want slack+https://…, json+https://… or sns:arn:aws:sns:<region>:<account>:<topic>"},
		{name: "bare url", args: []string{"--notify", "https://hooks.example.com" + hookSecret}, wantCode: ExitInvalid, wantErr: "--notify https://hooks.example.com/hooks/***: unknown"},
		{name: "relative json url", args: []string{"--notify", "json+hooks.example.com" + hookSecret}, wantCode: ExitInvalid, wantErr: "not an absolute http(s) URL"},
		{name: "bad env value", env: map[string]string{"BLUEGREEN_NOTIFY": "sns:releases"}, wantCode: ExitInvalid, wantErr: `--notify sns:releases: sns topic "releases" is not an ARN`},
		{name: "bad webhook", args: []string{"--notify-webhook", "ftp://hooks.example.com" + hookSecret}, wantCode: ExitInvalid,
			wantErr: "--notify-webhook ftp://hooks.example.com/hooks/***: not an absolute http(s) URL"},
		{name: "bad aws endpoint", args: []string{"--aws-endpoint", "localhost:4566"}, wantCode: ExitInvalid, wantErr: "fix --aws-endpoint"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("BLUEGREEN_NOTIFY", "")
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			var out, errb strings.Builder
			argv := append([]string{"bluegreen", "version"}, tt.args...)
			code := Execute(t.Context(), argv, strings.NewReader(""), &out, &errb)
			if code != tt.wantCode || !strings.Contains(errb.String(), tt.wantErr) {
				t.Fatalf("exit %d, stderr %q; want exit %d and %q", code, errb.String(), tt.wantCode, tt.wantErr)
			}
			if tt.wantCode == ExitOK && !strings.HasPrefix(out.String(), "bluegreen "+buildInfo().Version) {
				t.Errorf("version printed %q", out.String())
			}
			if strings.Contains(errb.String(), "Zq8notifySecret") {
				t.Errorf("stderr leaks the webhook secret: %s", errb.String())
			}
		})
	}
}

// TestNotifyTargetsDeliver: each --notify form reaches its receiver in its
// own format, SNS through --aws-endpoint.
func TestNotifyTargetsDeliver(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDTEST")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	t.Setenv("AWS_CONFIG_FILE", t.TempDir()+"/none")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", t.TempDir()+"/none")
	fake := awsfake.New(awsfake.Options{}).StartT(t)
	topic := fake.AddTopic("eu-west-1", "releases")
	var mu sync.Mutex
	bodies := map[string]string{}
	hooks := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		bodies[r.URL.Path] = string(b)
		mu.Unlock()
	}))
	t.Cleanup(hooks.Close)

	g := &Global{AWSEndpoint: fake.URL(), log: slog.New(slog.DiscardHandler), clock: clock.Real{}, fence: &kube.Fence{}}
	var err error
	g.notifyTargets, err = parseNotifyTargets([]string{hooks.URL + "/legacy"},
		[]string{"slack+" + hooks.URL + "/slack", "json+" + hooks.URL + "/json", "sns:" + topic})
	if err != nil {
		t.Fatal(err)
	}
	e := notify.Event{Kind: notify.KindPromoted, App: "shop", Namespace: "prod", Run: "01HRUN", ToColor: "green"}
	ns := g.notifiers(context.Background(), nil)
	if len(ns) != 4 {
		t.Fatalf("built %d notifiers, want 4", len(ns))
	}
	for _, n := range ns {
		if err := n.Notify(context.Background(), e); err != nil {
			t.Fatalf("%T: %v", n, err)
		}
	}
	var slack, js map[string]any
	_ = json.Unmarshal([]byte(bodies["/slack"]), &slack)
	_ = json.Unmarshal([]byte(bodies["/json"]), &js)
	if slack["text"] != e.Text() || bodies["/legacy"] != bodies["/slack"] {
		t.Errorf("slack bodies: %q and %q", bodies["/slack"], bodies["/legacy"])
	}
	if js["kind"] != "promoted" || js["app"] != "shop" || js["toColor"] != "green" {
		t.Errorf("json body: %s", bodies["/json"])
	}
	if got := fake.Published(topic); len(got) != 1 || got[0].Attributes["app"].StringValue != "shop" {
		t.Errorf("sns messages: %+v", got)
	}
}
