package cli

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFindCompanion(t *testing.T) {
	notOnPath := func(string) (string, error) { return "", errors.New("not found") }
	onPath := func(name string) (string, error) { return "/opt/bin/" + name, nil }
	tests := []struct {
		name string
		// files in the install dir: name -> mode; "link" in the link dir
		// points at the install dir's bluegreen.
		files    map[string]os.FileMode
		viaLink  bool
		lookPath func(string) (string, error)
		want     string // "" for an error; "beside" for the install dir
	}{
		{"beside the program", map[string]os.FileMode{"bluegreen": 0o755, CompanionName: 0o755}, false, notOnPath, "beside"},
		{"beside the program a symlink points at", map[string]os.FileMode{"bluegreen": 0o755, CompanionName: 0o755}, true, notOnPath, "beside"},
		{"beside wins over PATH", map[string]os.FileMode{"bluegreen": 0o755, CompanionName: 0o755}, false, onPath, "beside"},
		{"on PATH", map[string]os.FileMode{"bluegreen": 0o755}, false, onPath, "/opt/bin/" + CompanionName},
		{"beside but not executable", map[string]os.FileMode{"bluegreen": 0o755, CompanionName: 0o644}, false, onPath, "/opt/bin/" + CompanionName},
		{"nowhere", map[string]os.FileMode{"bluegreen": 0o755}, false, notOnPath, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, mode := range tt.files {
				if err := os.WriteFile(filepath.Join(dir, name), []byte("#!/bin/sh\n"), mode); err != nil {
					t.Fatal(err)
				}
			}
			self := filepath.Join(dir, "bluegreen")
			if tt.viaLink {
				link := filepath.Join(t.TempDir(), "kubectl-bluegreen")
				if err := os.Symlink(self, link); err != nil {
					t.Fatal(err)
				}
				self = link
			}
			want := tt.want
			if want == "beside" {
				want = filepath.Join(dir, CompanionName)
			}
			got, err := findCompanion(self, tt.lookPath)
			if want == "" {
				if err == nil || !strings.Contains(err.Error(), CompanionName+" not found") || !strings.Contains(err.Error(), "lean build") {
					t.Fatalf("findCompanion = %q, %v; want an error naming %s and the lean build", got, err, CompanionName)
				}
				return
			}
			if err != nil || got != want {
				t.Fatalf("findCompanion = %q, %v; want %q", got, err, want)
			}
		})
	}
}

func TestWarnCallerOfAnotherBuild(t *testing.T) {
	own := buildInfo().ident()
	tests := []struct {
		caller   string
		wantWarn bool
	}{
		{"", false},
		{own, false},
		{"v0.0.1 (0123456789ab)", true},
	}
	for _, tt := range tests {
		t.Setenv(callerEnv, tt.caller)
		var out bytes.Buffer
		warnCaller(&out)
		if got := out.Len() > 0; got != tt.wantWarn {
			t.Errorf("caller %q: warning %q, want one: %v", tt.caller, out.String(), tt.wantWarn)
		}
		if tt.wantWarn && !strings.Contains(out.String(), tt.caller) {
			t.Errorf("caller %q: warning %q does not name the caller's build", tt.caller, out.String())
		}
		if v, ok := os.LookupEnv(callerEnv); ok && tt.caller != "" {
			t.Errorf("caller %q: %s=%q left for the command's children", tt.caller, callerEnv, v)
		}
	}
}
