package e2e

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The lean bluegreen hands migrate and controller to bluegreen-full: its
// help, its completion and its exit code are the companion's, and without
// the companion it says what to install.
func TestLeanBluegreenHandsClusterCommandsToTheCompanion(t *testing.T) {
	run := func(bin string, env []string, args ...string) (string, string, int) {
		t.Helper()
		cmd := exec.Command(bin, args...)
		cmd.Env = append(os.Environ(), env...)
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		var exit *exec.ExitError
		if err != nil && !errors.As(err, &exit) {
			t.Fatalf("%s %v: %v", bin, args, err)
		}
		return out.String(), errb.String(), cmd.ProcessState.ExitCode()
	}

	// Given the two programs side by side, and a global flag before the
	// command,
	out, _, code := run(cliBin, nil, "-n", "shop", "migrate", "--help")
	// then migrate's help is the companion's, with its subcommands,
	if code != 0 || !strings.Contains(out, "bluegreen migrate [command]") || !strings.Contains(out, "rollback") {
		t.Errorf("bluegreen -n shop migrate --help: exit %d\n%s", code, out)
	}
	// its exit code too (2: bad input, nothing changed),
	_, errOut, code := run(cliBin, nil, "migrate", "plan", "-f", filepath.Join(t.TempDir(), "missing.yaml"))
	if code != 2 || !strings.Contains(errOut, "missing.yaml") {
		t.Errorf("bluegreen migrate plan -f missing.yaml: exit %d, want 2\n%s", code, errOut)
	}
	// and shell completion completes migrate's subcommands.
	out, _, code = run(cliBin, nil, "__complete", "migrate", "ro")
	if code != 0 || !strings.Contains(out, "rollback") || strings.Contains(out, "status") {
		t.Errorf("bluegreen __complete migrate ro: exit %d\n%s", code, out)
	}

	// Given the lean bluegreen alone, and no companion on PATH,
	alone := filepath.Join(t.TempDir(), "bluegreen")
	data, err := os.ReadFile(cliBin)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(alone, data, 0o755); err != nil {
		t.Fatal(err)
	}
	path := "PATH=" + filepath.Dir(alone)
	// then migrate and controller fail naming what to install, exit 1,
	for _, args := range [][]string{{"migrate", "status", "-f", "m.yaml"}, {"controller"}} {
		_, errOut, code := run(alone, []string{path}, args...)
		if code != 1 || !strings.Contains(errOut, "bluegreen-full not found") || !strings.Contains(errOut, "same release archive") {
			t.Errorf("bluegreen %v without bluegreen-full: exit %d\n%s", args, code, errOut)
		}
	}
	// and every other command works without it; version says it is missing.
	if out, errOut, code := run(alone, []string{path}, "version"); code != 0 || !strings.Contains(out, " lean\n") ||
		!strings.Contains(out, "bluegreen-full not found beside bluegreen or on PATH") {
		t.Errorf("lean bluegreen version, alone: exit %d\n%s%s", code, out, errOut)
	}
	// With the companion beside it, version names it.
	if out, errOut, code := run(cliBin, nil, "version"); code != 0 || !strings.Contains(out, "bluegreen-full: "+filepath.Join(filepath.Dir(cliBin), "bluegreen-full")) {
		t.Errorf("lean bluegreen version: exit %d\n%s%s", code, out, errOut)
	}
}
