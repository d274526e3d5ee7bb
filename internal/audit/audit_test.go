package audit

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bluegreen/bluegreen/internal/clock"
	"github.com/bluegreen/bluegreen/internal/redact"
)

const (
	secretToken = "s3cr3t-token-value"
	webhookURL  = "https://hooks.slack.com/services/T0AAA/B0BBB/xoxWebhookSecret"
)

func openLog(t *testing.T, path string, opts ...Option) *Log {
	t.Helper()
	l, err := Open(path, redact.NewSecrets(secretToken, webhookURL), opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	return l
}

func TestOpenPermissions(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state", "nested", "audit.jsonl")
	l := openLog(t, path)
	if err := l.Append(context.Background(), Record{Action: "switch"}); err != nil {
		t.Fatal(err)
	}
	for p, want := range map[string]os.FileMode{filepath.Dir(path): 0o700, path: 0o600} {
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if got := st.Mode().Perm(); got != want {
			t.Errorf("%s mode %o, want %o", p, got, want)
		}
	}
	if _, err := Open("", nil); err == nil {
		t.Errorf("Open(\"\") succeeded")
	}
}

func TestAppendRead(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	t0 := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	l := openLog(t, path, WithClock(clock.NewFake(t0)), WithActor("alice@laptop"))
	ctx := context.Background()
	recs := []Record{
		{Run: "r1", App: "web", Namespace: "prod", Action: "scale", Object: "deployment/web-green", Before: json.RawMessage(`{"replicas":0}`), After: json.RawMessage(`{"replicas":3}`), Result: "ok"},
		{Run: "r1", App: "web", Namespace: "prod", Action: "switch", Object: "service/web", Result: "ok", Time: t0.Add(time.Minute)},
		{Run: "r2", App: "api", Namespace: "stage", Action: "rollback", Result: "failed", Error: "boom", Actor: "bob@ci", Time: t0.Add(2 * time.Minute)},
	}
	for _, r := range recs {
		if err := l.Append(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name    string
		f       Filter
		actions string
	}{
		{"all", Filter{}, "scale,switch,rollback"},
		{"run", Filter{Run: "r1"}, "scale,switch"},
		{"app and namespace", Filter{App: "api", Namespace: "stage"}, "rollback"},
		{"action", Filter{Action: "switch"}, "switch"},
		{"result", Filter{Result: "failed"}, "rollback"},
		{"since", Filter{Since: t0.Add(time.Minute)}, "switch,rollback"},
		{"until", Filter{Until: t0.Add(time.Minute)}, "scale"},
		{"limit keeps last", Filter{Limit: 2}, "switch,rollback"},
		{"no match", Filter{App: "nope"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Read(ctx, path, tt.f)
			if err != nil {
				t.Fatal(err)
			}
			var actions []string
			for _, r := range got {
				actions = append(actions, r.Action)
			}
			if strings.Join(actions, ",") != tt.actions {
				t.Errorf("got %v, want %s", actions, tt.actions)
			}
		})
	}
	all, err := Read(ctx, path, Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if !all[0].Time.Equal(t0) || all[0].Actor != "alice@laptop" || all[2].Actor != "bob@ci" {
		t.Errorf("defaults not applied: %+v", all[0])
	}
	if string(all[0].After) != `{"replicas":3}` {
		t.Errorf("After = %s", all[0].After)
	}
}

func TestAppendErrors(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	l := openLog(t, path)
	ctx := context.Background()
	tests := []struct {
		name    string
		r       Record
		wantErr string
	}{
		{"no action", Record{}, "no action"},
		{"bad before", Record{Action: "switch", Before: json.RawMessage(`{"a":`)}, "before: not valid JSON"},
		{"trailing after", Record{Action: "switch", After: json.RawMessage(`{} {}`)}, "after: not valid JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := l.Append(ctx, tt.r)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), path) {
				t.Errorf("err = %v, want containing %q and the path", err, tt.wantErr)
			}
		})
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := l.Append(cctx, Record{Action: "x"}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: err = %v", err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if err := l.Append(ctx, Record{Action: "x"}); err == nil || !strings.Contains(err.Error(), "closed") {
		t.Errorf("append after close: %v", err)
	}
	if recs, err := Read(ctx, path, Filter{}); err != nil || len(recs) != 0 {
		t.Errorf("failed appends wrote records: %v %v", recs, err)
	}
}

func TestReadMissingAndCorrupt(t *testing.T) {
	dir := t.TempDir()
	recs, err := Read(context.Background(), filepath.Join(dir, "missing.jsonl"), Filter{})
	if err != nil || recs != nil {
		t.Errorf("missing log: %v %v", recs, err)
	}
	bad := filepath.Join(dir, "bad.jsonl")
	if err := os.WriteFile(bad, []byte("{\"action\":\"a\"}\n\nnot json\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Read(context.Background(), bad, Filter{}); err == nil || !strings.Contains(err.Error(), "line 3") {
		t.Errorf("corrupt log: err = %v", err)
	}
}

func TestRedaction(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	l := openLog(t, path)
	before := fmt.Sprintf(`{"env":[{"name":"TOKEN","value":%q}],"notify":%q,"probe":"http://u:pw-in-url@h/x?sig=abc","n":1.50,"html":"<a&b>"}`, secretToken, webhookURL)
	r := Record{
		Actor: "ci@" + secretToken, Run: secretToken, Scope: secretToken, App: secretToken,
		Namespace: secretToken, Context: secretToken, Action: "switch " + secretToken,
		Object: secretToken, Result: secretToken,
		Error:  fmt.Sprintf(`Post %q: dial tcp: refused (token %s)`, webhookURL, secretToken),
		Before: json.RawMessage(before), After: json.RawMessage(`{"` + secretToken + `":true}`),
	}
	if err := l.Append(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, leak := range []string{secretToken, "xoxWebhookSecret", "T0AAA/B0BBB", "pw-in-url", "sig=abc"} {
		if bytes.Contains(raw, []byte(leak)) {
			t.Errorf("file contains %q:\n%s", leak, raw)
		}
	}
	recs, err := Read(context.Background(), path, Filter{})
	if err != nil || len(recs) != 1 {
		t.Fatalf("read back: %v %v", recs, err)
	}
	want := `{"env":[{"name":"TOKEN","value":"***"}],"html":"<a&b>","n":1.50,"notify":"***","probe":"http://***@h/x?sig=***"}`
	if got := string(recs[0].Before); got != want {
		t.Errorf("Before =\n%s\nwant\n%s", got, want)
	}
	if recs[0].Error != `Post "***": dial tcp: refused (token ***)` || recs[0].Actor != "ci@***" {
		t.Errorf("record = %+v", recs[0])
	}
}

func TestActor(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	host := func(h string, err error) func() (string, error) { return func() (string, error) { return h, err } }
	cur := func(name string, err error) func() (*user.User, error) {
		return func() (*user.User, error) { return &user.User{Username: name}, err }
	}
	boom := errors.New("boom")
	tests := []struct {
		name     string
		getenv   func(string) string
		hostname func() (string, error)
		current  func() (*user.User, error)
		want     string
	}{
		{"USER", env(map[string]string{"USER": "alice", "LOGNAME": "x"}), host("box", nil), cur("y", nil), "alice@box"},
		{"LOGNAME", env(map[string]string{"LOGNAME": "bob"}), host("box", nil), cur("y", nil), "bob@box"},
		{"USERNAME", env(map[string]string{"USERNAME": "carol"}), host("box", nil), cur("y", nil), "carol@box"},
		{"os user", env(nil), host("box", nil), cur("dave", nil), "dave@box"},
		{"nothing", env(nil), host("", boom), cur("", boom), "unknown@unknown"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := actor(tt.getenv, tt.hostname, tt.current); got != tt.want {
				t.Errorf("actor = %q, want %q", got, tt.want)
			}
		})
	}
	if a := Actor(); !strings.Contains(a, "@") {
		t.Errorf("Actor() = %q", a)
	}
}

// helperEnv makes the test binary act as a second appending process.
const helperEnv = "BLUEGREEN_AUDIT_TEST_HELPER"

// perProcess is how many records each helper process appends.
const perProcess = 20

// bigValue makes records large enough that a torn write would show.
var bigValue = strings.Repeat("0123456789abcdef", 1024) // 16 KiB, well above PIPE_BUF

// appendMany appends n records tagged with who from one goroutine.
func appendMany(ctx context.Context, l *Log, who string, n int) error {
	for i := range n {
		r := Record{Run: who, Action: "scale", Object: strconv.Itoa(i),
			Before: json.RawMessage(`{"pad":"` + bigValue + `","token":"` + secretToken + `"}`)}
		if err := l.Append(ctx, r); err != nil {
			return err
		}
	}
	return nil
}

// TestHelperProcess is not a test: run with helperEnv set, it appends records
// to the log named by the variable, as a separate process.
func TestHelperProcess(t *testing.T) {
	path := os.Getenv(helperEnv)
	if path == "" {
		t.Skip("helper process only")
	}
	l, err := Open(path, redact.NewSecrets(secretToken))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if err := appendMany(context.Background(), l, os.Getenv(helperEnv+"_WHO"), perProcess); err != nil {
		t.Fatal(err)
	}
}

func TestConcurrentAppends(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	ctx := context.Background()
	shared := openLog(t, path)
	const goroutines, perGoroutine, processes = 8, 10, 2

	var procs []*exec.Cmd
	for p := range processes {
		cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
		cmd.Env = append(os.Environ(), helperEnv+"="+path, fmt.Sprintf("%s_WHO=proc%d", helperEnv, p))
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if cmd.ProcessState == nil {
				_ = cmd.Process.Kill()
				_ = cmd.Wait()
			}
		})
		procs = append(procs, cmd)
	}
	var wg sync.WaitGroup
	errs := make(chan error, goroutines)
	for g := range goroutines {
		l := shared
		if g%2 == 1 { // half use their own file descriptor
			l = openLog(t, path)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- appendMany(ctx, l, fmt.Sprintf("g%d", g), perGoroutine)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, cmd := range procs {
		if err := cmd.Wait(); err != nil {
			t.Fatalf("helper process: %v\n%s", err, cmd.Stdout)
		}
	}
	checkLines(t, path, goroutines*perGoroutine+processes*perProcess)
}

// checkLines asserts that path holds exactly want valid records, each with
// per-writer ordering intact, and no secret.
func checkLines(t *testing.T, path string, want int) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw, []byte(secretToken)) {
		t.Errorf("secret in file")
	}
	lines := bytes.Split(bytes.TrimSuffix(raw, []byte("\n")), []byte("\n"))
	if len(lines) != want {
		t.Fatalf("%d lines, want %d", len(lines), want)
	}
	next := map[string]int{}
	for i, line := range lines {
		var r Record
		if err := json.Unmarshal(line, &r); err != nil {
			t.Fatalf("line %d is not a valid record: %v", i+1, err)
		}
		if r.Object != strconv.Itoa(next[r.Run]) {
			t.Fatalf("line %d: %s wrote %s, want %d", i+1, r.Run, r.Object, next[r.Run])
		}
		next[r.Run]++
	}
}
