package e2e

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bluegreen/bluegreen/test/migrationbed"
	"github.com/bluegreen/bluegreen/test/testbed"
)

// lockedBuffer collects a process's output while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// While a migration runs, a second apply is refused as unfinished and a
// concurrent resume is refused by the Lease, naming the holder (exit 3).
func TestMigrateOneRunAtATime(t *testing.T) {
	// Given a migration running with a long pause after its only shift
	mg := givenMigration(t, 1, migrationbed.Options{}, migrationbed.SpecOptions{NoStandby: true, Steps: []int{100}, Pause: 20 * time.Second})
	first := exec.Command(cliBin, "migrate", "apply", "-f", mg.spec, "--audit-log", mg.audit)
	first.Env = append(os.Environ(), mg.w.CLIEnv()...)
	out := &lockedBuffer{}
	first.Stdout, first.Stderr = out, out
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- first.Wait() }()
	var waited error
	var once sync.Once
	wait := func() error { once.Do(func() { waited = <-done }); return waited }
	t.Cleanup(func() {
		_ = first.Process.Kill()
		_ = wait()
	})
	if err := testbed.WaitFor(t.Context(), func(context.Context) (bool, error) {
		return strings.Contains(out.String(), "→ shift-100"), nil
	}); err != nil {
		t.Fatalf("first run never reached its shift:\n%s", out)
	}

	// When a second apply and a resume start
	again := mg.cli(nil, "apply")
	resume := mg.cli(nil, "resume")

	// Then the apply is refused as unfinished and the resume by the lock
	if again.code != 2 || !strings.Contains(again.stderr, "unfinished run") {
		t.Fatalf("second apply: want exit 2 naming the unfinished run, got %s", again)
	}
	if resume.code != 3 || !strings.Contains(resume.stderr, "pid=") {
		t.Fatalf("concurrent resume: want exit 3 naming the holder, got %s", resume)
	}
	// And the first run finishes undisturbed
	if err := wait(); err != nil {
		t.Fatalf("first run: %v\n%s", err, out)
	}
	mg.thenRunsIn("B")
}
