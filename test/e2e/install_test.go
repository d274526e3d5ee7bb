package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// `go install ./cmd/bluegreen` in a checkout, with nothing stamped by
// ldflags, gives a binary whose version names the module version Go
// derives from the commit, and the commit itself.
func TestGoInstallPrintsVersionAndCommit(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	head, err := exec.Command("git", "-C", root, "rev-parse", "HEAD").Output()
	if err != nil {
		t.Fatalf("this test runs in a git checkout of bluegreen: %v", err)
	}
	commit := strings.TrimSpace(string(head))
	bin := t.TempDir()
	install := exec.Command("go", "install", "./cmd/bluegreen")
	install.Dir = root
	// -buildvcs=true is Go's default in a checkout (auto); a GOFLAGS of
	// the machine's must not turn it off here.
	install.Env = append(os.Environ(), "GOBIN="+bin, "GOFLAGS=-buildvcs=true")
	if out, err := install.CombinedOutput(); err != nil {
		t.Fatalf("go install ./cmd/bluegreen: %v\n%s", err, out)
	}
	out, err := exec.Command(filepath.Join(bin, "bluegreen"), "version", "-o", "json").Output()
	if err != nil {
		t.Fatalf("bluegreen version: %v", err)
	}
	var v struct {
		Version, Commit, Build string
	}
	if err := json.Unmarshal(out, &v); err != nil {
		t.Fatalf("bluegreen version -o json: %v\n%s", err, out)
	}
	if v.Commit != commit || !strings.HasPrefix(v.Version, "v") || !strings.Contains(v.Version, commit[:12]) {
		t.Fatalf("version %q commit %q; want a module version naming %s, and that commit", v.Version, v.Commit, commit[:12])
	}
	if v.Build != "complete" { // go install builds every command into one program
		t.Fatalf("build %q, want complete", v.Build)
	}
	text, err := exec.Command(filepath.Join(bin, "bluegreen"), "version").Output()
	if err != nil || !strings.HasPrefix(string(text), "bluegreen "+v.Version+" (commit "+commit[:12]) {
		t.Fatalf("bluegreen version: %q, %v", text, err)
	}
}
