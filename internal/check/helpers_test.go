package check

import (
	"bytes"
	"log/slog"
	"sync"
	"testing"

	"github.com/bluegreen/bluegreen/internal/redact"
)

// logBuffer is a concurrency-safe buffer for captured slog output.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// testLogger returns a debug-level logger writing into a buffer.
func testLogger(t *testing.T) (*slog.Logger, *logBuffer) {
	t.Helper()
	b := &logBuffer{}
	return slog.New(slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug})), b
}

// newSecrets returns a secret set for WithSecrets.
func newSecrets(values ...string) *redact.Secrets { return redact.NewSecrets(values...) }
