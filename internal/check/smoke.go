package check

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/bluegreen/bluegreen/internal/redact"
)

// tailLines is how many lines of output a Smoke result's Detail keeps.
const tailLines = 20

// maxLine caps one kept output line, in bytes.
const maxLine = 1024

// killGrace is how long a timed-out command has between SIGTERM and SIGKILL,
// and how long Run waits for output after the command ends.
const killGrace = 2 * time.Second

// SmokeConfig configures a Smoke check: exactly one of Command or Script.
type SmokeConfig struct {
	// Command is the argv to run, e.g. ["./smoke.sh", "--fast"].
	Command []string `json:"command,omitempty" yaml:"command,omitempty"`
	// Script is a command line run with sh -c, e.g. "curl -sf $PREVIEW_URL".
	Script string `json:"script,omitempty" yaml:"script,omitempty"`
	// Dir is the working directory; empty means the current one.
	Dir string `json:"dir,omitempty" yaml:"dir,omitempty"`
	// Timeout bounds the whole run; 0 means Defaults.Timeout
	// (SMOKE_TEST_TIMEOUT).
	Timeout Duration `json:"timeout,omitempty" yaml:"timeout,omitempty"`
}

// Validate reports the first invalid field and how to fix it.
func (c SmokeConfig) Validate() error {
	switch {
	case len(c.Command) > 0 && c.Script != "":
		return errors.New("command and script are both set; keep one: command for an argv list, script for a shell line")
	case len(c.Command) == 0 && strings.TrimSpace(c.Script) == "":
		return errors.New("command or script is required; set command to an argv list or script to a shell line")
	case len(c.Command) > 0 && c.Command[0] == "":
		return errors.New("command[0] is empty; set it to the program to run")
	case c.Timeout < 0:
		return fmt.Errorf("timeout %s: must not be negative", c.Timeout)
	}
	return nil
}

// argv returns the command to execute.
func (c SmokeConfig) argv() []string {
	if len(c.Command) > 0 {
		return c.Command
	}
	return []string{"sh", "-c", c.Script}
}

// Smoke is a check that runs a command; exit status 0 passes.
type Smoke struct {
	name    string
	cfg     SmokeConfig
	timeout time.Duration
	deps    deps
}

// NewSmoke validates cfg and returns a Smoke check named name, with
// d.Timeout used when cfg.Timeout is zero.
func NewSmoke(name string, cfg SmokeConfig, d Defaults, opts ...Option) (*Smoke, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("smoke check %q: %w", name, err)
	}
	d = d.resolved()
	return &Smoke{
		name:    pick(name, "smoke"),
		cfg:     cfg,
		timeout: pick(cfg.Timeout.D(), d.Timeout),
		deps:    newDeps(opts),
	}, nil
}

// Name returns the check's name.
func (s *Smoke) Name() string { return s.name }

// Run runs the command with the Target in its environment. A non-zero exit or
// the timeout fails the check; the error is for a command that cannot be
// started and for ctx ending.
func (s *Smoke) Run(ctx context.Context, t Target) (Result, error) {
	res := Result{Name: s.name, Attempts: 1}
	env := append(os.Environ(), targetEnv(t)...)
	own := redact.NewSecrets()
	own.AddEnv(env)
	red := redactor{shared: s.deps.secrets, own: own}
	log := s.deps.logger.With("check", s.name)

	runCtx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	start := s.deps.clock.Now()
	out, waitErr, err := s.run(runCtx, env)
	res.Elapsed = s.deps.clock.Now().Sub(start)
	if err != nil {
		return res, fmt.Errorf("smoke check %q: %s", s.name, red.String(err.Error()))
	}
	output := red.String(out)
	switch {
	case ctx.Err() != nil:
		return res, fmt.Errorf("smoke check %q: %w", s.name, ctx.Err())
	case waitErr == nil:
		res.Passed = true
		res.Detail = "exit status 0; output:\n" + output
	case errors.Is(runCtx.Err(), context.DeadlineExceeded):
		res.Detail = fmt.Sprintf("timed out after %s; output:\n%s", s.timeout, output)
	default:
		res.Detail = fmt.Sprintf("%s; output:\n%s", red.String(waitErr.Error()), output)
	}
	log.Info("smoke check finished", "passed", res.Passed, "elapsed", res.Elapsed)
	return res, nil
}

// run executes the command in its own process group and returns the tail of
// its output and Wait's error. err is set only when the command could not be
// started.
func (s *Smoke) run(ctx context.Context, env []string) (out string, waitErr, err error) {
	argv := s.cfg.argv()
	pr, pw, err := os.Pipe()
	if err != nil {
		return "", nil, fmt.Errorf("output pipe: %w", err)
	}
	defer pr.Close()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = s.cfg.Dir
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = pw, pw
	cmd.WaitDelay = killGrace
	setProcessGroup(cmd)
	cmd.Cancel = func() error { return signalGroup(cmd.Process, false) }
	if err := cmd.Start(); err != nil {
		_ = pw.Close()
		return "", nil, fmt.Errorf("start %s: %w", argv[0], err)
	}
	_ = pw.Close() // the child holds its own copy
	tail := newTail(tailLines)
	copied := make(chan struct{})
	go func() {
		_, _ = io.Copy(tail, pr)
		close(copied)
	}()
	waitErr = cmd.Wait()
	// Nothing of the command may outlive it; this also closes the pipe
	// held by background children.
	_ = signalGroup(cmd.Process, true)
	select {
	case <-copied:
	case <-s.deps.clock.After(killGrace):
		// A process that left the group still holds the pipe; give up.
	}
	return tail.String(), waitErr, nil
}

// targetEnv returns the variables describing t for a smoke command.
func targetEnv(t Target) []string {
	return []string{
		"PREVIEW_URL=" + t.BaseURL,
		"APP=" + t.App,
		"COLOR=" + t.Color,
		"IMAGE=" + t.Image,
		"NAMESPACE=" + t.Namespace,
		"SERVICE=" + t.Service,
		"HOST_HEADER=" + t.Host,
	}
}

// tail keeps the last n lines written to it, each cut at maxLine bytes.
type tail struct {
	mu      sync.Mutex
	n       int
	lines   []string
	partial []byte
}

func newTail(n int) *tail { return &tail{n: n} }

// Write splits p into lines and keeps the last n.
func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, c := range p {
		if c == '\n' {
			t.push(string(t.partial))
			t.partial = t.partial[:0]
			continue
		}
		if len(t.partial) < maxLine {
			t.partial = append(t.partial, c)
		}
	}
	return len(p), nil
}

// push appends a complete line, dropping the oldest beyond n.
func (t *tail) push(line string) {
	t.lines = append(t.lines, line)
	if len(t.lines) > t.n {
		t.lines = t.lines[len(t.lines)-t.n:]
	}
}

// String returns the kept lines, including an unterminated last line.
func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	lines := t.lines
	if len(t.partial) > 0 {
		lines = append(lines[:len(lines):len(lines)], string(t.partial))
		if len(lines) > t.n {
			lines = lines[len(lines)-t.n:]
		}
	}
	return strings.ToValidUTF8(strings.Join(lines, "\n"), "?")
}
