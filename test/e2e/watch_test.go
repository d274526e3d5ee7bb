package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// status --watch follows a release: piped, it appends a line each time
// the view changes (the paused run, then green active with the new image);
// in a terminal (a tmux pane) it redraws one view in place, showing what
// the run does now, and q quits with exit 0.
func TestStatusWatchFollowsARelease(t *testing.T) {
	e := newEnv(t)
	e.givenBlueGreenApp("shop", v1, 2)
	admin := e.machine("admin")
	args := []string{"--kubeconfig", admin.kubeconfig, "-n", e.ns, "status", "shop", "--watch", "--interval", "200ms"}
	env := append(os.Environ(), "HOME="+admin.home, "XDG_STATE_HOME=", "CI=")

	piped := exec.Command(cliBin, args...)
	piped.Env = env
	out, errOut := &lockedBuffer{}, &lockedBuffer{}
	piped.Stdout, piped.Stderr = out, errOut
	if err := piped.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = piped.Process.Kill() })

	pane := startPane(t, admin.home, append([]string{cliBin}, args...))
	e.eventually("the pane shows the app", func() bool { return strings.Contains(pane.capture(), "active color blue") })

	admin.must("deploy", "shop", "--image", v2, "--pause")
	nowPaused := regexp.MustCompile(`Now: run \S+ \(deploy\) paused`)
	e.eventually("the pane shows the paused run", func() bool { return nowPaused.MatchString(pane.capture()) })
	e.eventually("the piped lines show the paused run", func() bool { return strings.Contains(out.String(), "(deploy) paused") })

	admin.must("promote", "shop")
	e.eventually("the pane shows green active", func() bool {
		s := pane.capture()
		return strings.Contains(s, "active color green") && !nowPaused.MatchString(s)
	})
	greenLine := "active=green blue=" + v1
	e.eventually("the piped lines show green active", func() bool { return strings.Contains(out.String(), greenLine) })

	screen := pane.settled()
	t.Logf("the pane after the promote:\n%s", screen)
	if n := strings.Count(screen, "App shop in namespace"); n != 1 {
		t.Fatalf("the pane holds %d views, want one redrawn in place:\n%s", n, screen)
	}
	if !regexp.MustCompile(`green\s+shop-green\s+` + regexp.QuoteMeta(v2) + `\s+2/2\s+100%`).MatchString(screen) {
		t.Fatalf("the pane's view after the promote:\n%s", screen)
	}
	pane.keys("q")
	if code := pane.exitCode(); code != 0 {
		t.Fatalf("status --watch in a terminal exited %d after q, want 0", code)
	}

	if err := piped.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	if err := piped.Wait(); err != nil {
		t.Fatalf("status --watch piped, stopped by SIGINT: %v\n%s", err, errOut.String())
	}
	t.Logf("the piped lines:\n%s", out.String())
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	line := regexp.MustCompile(`^\d\d:\d\d:\d\d active=`)
	for _, l := range lines {
		if !line.MatchString(l) {
			t.Fatalf("piped line %q: want a time and the view on one line\n%s", l, out.String())
		}
	}
	if !strings.Contains(lines[0], "active=blue") || !strings.Contains(lines[len(lines)-1], greenLine) {
		t.Fatalf("piped lines: want blue first and green last:\n%s", out.String())
	}
	for i := 1; i < len(lines); i++ {
		if lines[i][9:] == lines[i-1][9:] {
			t.Fatalf("piped line %d repeats the one before (a line only when the view changes):\n%s", i, out.String())
		}
	}
	if strings.Contains(out.String(), "\x1b[") {
		t.Fatalf("piped output holds terminal escapes:\n%q", out.String())
	}
}

// tmuxPane is a command running in a detached tmux session: a real
// terminal.
type tmuxPane struct {
	t        *testing.T
	socket   string
	exitFile string
}

func startPane(t *testing.T, dir string, argv []string) *tmuxPane {
	t.Helper()
	p := &tmuxPane{t: t, socket: filepath.Join(dir, "tmux.sock"), exitFile: filepath.Join(dir, "pane.exit")}
	quoted := make([]string, len(argv))
	for i, a := range argv {
		quoted[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	script := fmt.Sprintf("env HOME='%s' XDG_STATE_HOME= CI= %s; echo $? > '%s'", dir, strings.Join(quoted, " "), p.exitFile)
	p.tmux("new-session", "-d", "-s", "watch", "-x", "160", "-y", "40", script)
	t.Cleanup(func() { _ = exec.Command("tmux", "-S", p.socket, "kill-server").Run() })
	return p
}

func (p *tmuxPane) tmux(args ...string) string {
	p.t.Helper()
	out, err := exec.Command("tmux", append([]string{"-S", p.socket}, args...)...).CombinedOutput()
	if err != nil {
		p.t.Fatalf("tmux %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// capture is what the pane shows now.
func (p *tmuxPane) capture() string { return p.tmux("capture-pane", "-p", "-t", "watch") }

// settled is what the pane shows once two looks in a row agree: a look
// can fall in the middle of a frame being drawn.
func (p *tmuxPane) settled() string {
	p.t.Helper()
	var last, now string
	e := &env{t: p.t}
	e.eventually("the pane holds still", func() bool {
		last, now = now, p.capture()
		return now == last
	})
	return now
}

func (p *tmuxPane) keys(k string) { p.tmux("send-keys", "-t", "watch", k) }

// exitCode waits for the pane's command to end and returns its exit code.
func (p *tmuxPane) exitCode() int {
	p.t.Helper()
	var code int
	e := &env{t: p.t}
	e.eventually("the pane's command ends", func() bool {
		b, err := os.ReadFile(p.exitFile)
		if err != nil {
			return false
		}
		_, err = fmt.Sscan(string(b), &code)
		return err == nil
	})
	return code
}
