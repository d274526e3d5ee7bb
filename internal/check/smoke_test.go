//go:build unix

package check

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestSmokeRun(t *testing.T) {
	t.Setenv("SMOKE_TEST_API_TOKEN", "env-secret-token-1")
	target := Target{App: "myapp", Namespace: "prod", Color: "green", Image: "reg/myapp:1.2", BaseURL: "http://preview.local"}
	tests := []struct {
		name       string
		cfg        SmokeConfig
		wantPass   bool
		wantDetail []string
		notDetail  []string
	}{
		{name: "env", cfg: SmokeConfig{Script: `echo "$APP $NAMESPACE $COLOR $IMAGE $PREVIEW_URL"`}, wantPass: true,
			wantDetail: []string{"exit status 0", "myapp prod green reg/myapp:1.2 http://preview.local"}},
		{name: "argv", cfg: SmokeConfig{Command: []string{"sh", "-c", `echo "argv $1"`, "sh", "one two"}}, wantPass: true,
			wantDetail: []string{"argv one two"}},
		{name: "exit code", cfg: SmokeConfig{Script: "echo to-stderr >&2; exit 3"},
			wantDetail: []string{"exit status 3", "to-stderr"}},
		{name: "last 20 lines", cfg: SmokeConfig{Script: "seq 1 30; exit 1"},
			wantDetail: []string{"\n11\n", "\n30"}, notDetail: []string{"\n10\n"}},
		{name: "unterminated line", cfg: SmokeConfig{Script: "printf 'a\\nb'"}, wantPass: true, wantDetail: []string{"a\nb"}},
		{name: "secrets hidden", cfg: SmokeConfig{Script: `echo "t=$SMOKE_TEST_API_TOKEN k=given-secret-9 u=https://hooks.slack.com/services/T1/B2/C3"`}, wantPass: true,
			wantDetail: []string{"t=*** k=*** u=https://hooks.slack.com/services/***"},
			notDetail:  []string{"env-secret-token-1", "given-secret-9", "T1/B2/C3"}},
		{name: "dir", cfg: SmokeConfig{Script: "pwd", Dir: "/"}, wantPass: true, wantDetail: []string{"\n/"}},
		{name: "shell missing command", cfg: SmokeConfig{Script: "no-such-command-xyz"}, wantDetail: []string{"exit status 127"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			log, logs := testLogger(t)
			s, err := NewSmoke("smoke", tt.cfg, Defaults{Timeout: 10 * time.Second},
				WithLogger(log), WithSecrets(nil), WithSecrets(newSecrets("given-secret-9")))
			if err != nil {
				t.Fatal(err)
			}
			res, err := s.Run(context.Background(), target)
			if err != nil {
				t.Fatal(err)
			}
			if res.Passed != tt.wantPass || res.Attempts != 1 {
				t.Errorf("passed=%v attempts=%d, want %v; detail %q", res.Passed, res.Attempts, tt.wantPass, res.Detail)
			}
			for _, want := range tt.wantDetail {
				if !strings.Contains(res.Detail, want) {
					t.Errorf("Detail %q does not contain %q", res.Detail, want)
				}
			}
			for _, bad := range tt.notDetail {
				if strings.Contains(res.Detail, bad) || strings.Contains(logs.String(), bad) {
					t.Errorf("Detail or logs contain %q: %q", bad, res.Detail)
				}
			}
		})
	}
}

func TestSmokeStartError(t *testing.T) {
	s, err := NewSmoke("missing", SmokeConfig{Command: []string{"/nonexistent/smoke.sh"}}, Defaults{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Run(context.Background(), Target{})
	if err == nil || !strings.Contains(err.Error(), `smoke check "missing": start /nonexistent/smoke.sh`) {
		t.Errorf("err = %v", err)
	}
}

// The process group must be gone after a timeout, a cancel, and after a
// command that exits leaving a background job behind.
func TestSmokeKillsProcessGroup(t *testing.T) {
	tests := []struct {
		name     string
		script   string
		timeout  time.Duration
		cancel   bool
		wantPass bool
		want     string
		maxTime  time.Duration // far below the 30 s job: Run did not wait for it
	}{
		{name: "timeout", script: `sleep 30 & echo $! > "$PIDFILE"; wait`, timeout: 300 * time.Millisecond, want: "timed out after 300ms", maxTime: 20 * time.Second},
		{name: "timeout ignoring TERM", script: `trap '' TERM; sleep 30 & echo $! > "$PIDFILE"; wait; wait`, timeout: 300 * time.Millisecond, want: "timed out", maxTime: killGrace + 20*time.Second},
		{name: "background job after success", script: `sleep 30 & echo $! > "$PIDFILE"; echo done`, timeout: 10 * time.Second, wantPass: true, want: "done", maxTime: 20 * time.Second},
		{name: "cancel", script: `sleep 30 & echo $! > "$PIDFILE"; wait`, timeout: 10 * time.Second, cancel: true, maxTime: 20 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pidFile := filepath.Join(t.TempDir(), "pid")
			t.Setenv("PIDFILE", pidFile)
			ctx, cancel := context.WithCancel(context.Background())
			t.Cleanup(cancel)
			if tt.cancel {
				go func() {
					waitForFile(t, pidFile)
					cancel()
				}()
			}
			s, err := NewSmoke("pg", SmokeConfig{Script: tt.script, Timeout: Duration(tt.timeout)}, Defaults{})
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			res, err := s.Run(ctx, Target{})
			took := time.Since(start)
			pid := readPID(t, pidFile)
			t.Cleanup(func() { _ = syscall.Kill(pid, syscall.SIGKILL) })
			if tt.cancel {
				if !errors.Is(err, context.Canceled) {
					t.Errorf("err = %v, want context.Canceled", err)
				}
			} else if err != nil || res.Passed != tt.wantPass || !strings.Contains(res.Detail, tt.want) {
				t.Errorf("res %+v err %v", res, err)
			}
			if took > tt.maxTime {
				t.Errorf("Run took %s: it waited for the 30 s background job", took)
			}
			if processAlive(pid, time.Second) {
				t.Errorf("child %d survived", pid)
			}
		})
	}
}

func waitForFile(t *testing.T, path string) {
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if b, err := os.ReadFile(path); err == nil && strings.HasSuffix(string(b), "\n") {
			return
		}
	}
	t.Errorf("%s never appeared", path)
}

func readPID(t *testing.T, path string) int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("child pid: %v", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatalf("child pid %q: %v", b, err)
	}
	return pid
}

// processAlive polls for up to wait and reports whether pid still runs. A
// zombie (killed, not yet reaped by init) counts as dead.
func processAlive(pid int, wait time.Duration) bool {
	for deadline := time.Now().Add(wait); ; time.Sleep(10 * time.Millisecond) {
		alive := syscall.Kill(pid, 0) == nil
		if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err == nil {
			if i := strings.LastIndexByte(string(b), ')'); i > 0 && i+2 < len(b) && b[i+2] == 'Z' {
				alive = false
			}
		}
		if !alive || time.Now().After(deadline) {
			return alive
		}
	}
}
