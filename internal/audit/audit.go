package audit

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/user"
	"path/filepath"
	"sync"
	"time"

	"github.com/bluegreen/bluegreen/internal/clock"
	"github.com/bluegreen/bluegreen/internal/redact"
	"github.com/bluegreen/bluegreen/internal/statefile"
)

// Record is one audit log entry; it is stored as one JSON line.
type Record struct {
	// Time defaults to the log's clock when zero.
	Time time.Time `json:"time"`
	// Actor is user@host; it defaults to Actor() when empty.
	Actor string `json:"actor"`
	// Run identifies the bluegreen run that made the change.
	Run       string `json:"run,omitempty"`
	Scope     string `json:"scope,omitempty"`
	App       string `json:"app,omitempty"`
	Namespace string `json:"namespace,omitempty"`
	// Context is the kubeconfig context.
	Context string `json:"context,omitempty"`
	// Action is what was done, e.g. "switch", "scale", "rollback"; required.
	Action string `json:"action"`
	// Object is what it was done to, e.g. "service/myapp".
	Object string          `json:"object,omitempty"`
	Before json.RawMessage `json:"before,omitempty"`
	After  json.RawMessage `json:"after,omitempty"`
	// Result is "ok", "failed", ...
	Result string `json:"result,omitempty"`
	Error  string `json:"error,omitempty"`
	// Note explains an outcome, e.g. why a rollback kept a change.
	Note string `json:"note,omitempty"`
}

// Option configures a Log.
type Option func(*Log)

// WithClock sets the clock used for records without a Time; the default is
// the system clock.
func WithClock(c clock.Clock) Option { return func(l *Log) { l.clock = c } }

// WithActor sets the actor used for records without an Actor; the default is
// Actor().
func WithActor(actor string) Option { return func(l *Log) { l.actor = actor } }

// Log is an open audit log. It is safe for concurrent use.
type Log struct {
	path    string
	secrets *redact.Secrets
	clock   clock.Clock
	actor   string

	mu sync.Mutex
	f  *os.File
}

// Open opens (creating if needed) the audit log at path for appending. The
// parent directory is created with mode 0700 and the file with 0600; a
// symbolic link, another user's file or one open to other users is refused
// (see statefile). secrets may be nil; URL redaction applies regardless.
func Open(path string, secrets *redact.Secrets, opts ...Option) (*Log, error) {
	if path == "" {
		return nil, errors.New("audit log: empty path; set the audit log path")
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("audit log %s: create directory: %w", path, err)
	}
	f, err := statefile.Open(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, statefile.Mode)
	if errors.Is(err, statefile.ErrUnsafe) {
		return nil, fmt.Errorf("audit log: %w (or set --audit-log)", err)
	}
	if err != nil {
		return nil, fmt.Errorf("audit log %s: open: %w", path, err)
	}
	l := &Log{path: path, secrets: secrets, clock: clock.Real{}, f: f}
	for _, o := range opts {
		o(l)
	}
	if l.actor == "" {
		l.actor = Actor()
	}
	return l, nil
}

// Path returns the log's file path.
func (l *Log) Path() string { return l.path }

// Append redacts r, fills in Time and Actor when empty, and appends it as one
// line, synced to disk before returning.
func (l *Log) Append(ctx context.Context, r Record) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("audit log %s: append %s: %w", l.path, r.Action, err)
	}
	if r.Action == "" {
		return fmt.Errorf("audit log %s: append: record has no action; set Record.Action", l.path)
	}
	if r.Time.IsZero() {
		r.Time = l.clock.Now()
	}
	if r.Actor == "" {
		r.Actor = l.actor
	}
	line, err := l.encode(r)
	if err != nil {
		return fmt.Errorf("audit log %s: append %s %s: %w", l.path, l.secrets.String(r.Action), l.secrets.String(r.Object), err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return fmt.Errorf("audit log %s: append: log is closed", l.path)
	}
	if err := writeLocked(l.f, line); err != nil {
		return fmt.Errorf("audit log %s: append %s: %w", l.path, r.Action, err)
	}
	return nil
}

// Close closes the log. Closing a closed log does nothing.
func (l *Log) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f = nil
	if err != nil {
		return fmt.Errorf("audit log %s: close: %w", l.path, err)
	}
	return nil
}

// writeLocked writes line with one write call under an exclusive file lock,
// then syncs.
func writeLocked(f *os.File, line []byte) error {
	unlock, err := lockFile(f)
	if err != nil {
		return fmt.Errorf("lock: %w", err)
	}
	defer unlock()
	n, err := f.Write(line)
	if err != nil {
		return fmt.Errorf("write: %w", err)
	}
	if n != len(line) {
		return fmt.Errorf("write: short write (%d of %d bytes)", n, len(line))
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sync: %w", err)
	}
	return nil
}

// encode returns r, redacted, as one JSON line ending in "\n".
func (l *Log) encode(r Record) ([]byte, error) {
	red := l.secrets.String
	for _, s := range []*string{&r.Actor, &r.Run, &r.Scope, &r.App, &r.Namespace,
		&r.Context, &r.Action, &r.Object, &r.Result, &r.Error} {
		*s = red(*s)
	}
	var err error
	if r.Before, err = redactJSON(r.Before, red); err != nil {
		return nil, fmt.Errorf("before: %w", err)
	}
	if r.After, err = redactJSON(r.After, red); err != nil {
		return nil, fmt.Errorf("after: %w", err)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(r); err != nil { // Encode appends the newline
		return nil, err
	}
	return buf.Bytes(), nil
}

// redactJSON decodes raw, passes every string and object key through red and
// re-encodes it compactly. Empty input stays empty.
func redactJSON(raw json.RawMessage, red func(string) string) (json.RawMessage, error) {
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("not valid JSON: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("not valid JSON: data after the first value")
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(redactValue(v, red)); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

// redactValue redacts the strings of a decoded JSON value.
func redactValue(v any, red func(string) string) any {
	switch x := v.(type) {
	case string:
		return red(x)
	case []any:
		for i := range x {
			x[i] = redactValue(x[i], red)
		}
		return x
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, val := range x {
			out[red(k)] = redactValue(val, red)
		}
		return out
	default:
		return v
	}
}

// Actor returns "$USER@hostname" for the current process, falling back to
// $LOGNAME, $USERNAME and the OS account name for the user, and to
// "unknown" for either part that cannot be found.
func Actor() string {
	return actor(os.Getenv, os.Hostname, user.Current)
}

func actor(getenv func(string) string, hostname func() (string, error), current func() (*user.User, error)) string {
	name := ""
	for _, k := range []string{"USER", "LOGNAME", "USERNAME"} {
		if name = getenv(k); name != "" {
			break
		}
	}
	if name == "" {
		if u, err := current(); err == nil && u.Username != "" {
			name = u.Username
		} else {
			name = "unknown"
		}
	}
	host, err := hostname()
	if err != nil || host == "" {
		host = "unknown"
	}
	return name + "@" + host
}
