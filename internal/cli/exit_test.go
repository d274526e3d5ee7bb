package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
)

// Usage errors exit 2, like bad input, and say which help to read; none
// needs a cluster, so none connects to one.
func TestUsageErrorsExit2(t *testing.T) {
	t.Setenv("KUBECONFIG", "/nonexistent/kubeconfig")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown flag", []string{"deploy", "shop", "--nope"}, "unknown flag: --nope (see bluegreen deploy --help)"},
		{"bad flag value", []string{"status", "shop", "--lease-duration", "soon"}, `invalid argument "soon" for "--lease-duration"`},
		{"extra argument", []string{"version", "extra"}, `unknown command "extra" for "bluegreen version"`},
		{"missing argument", []string{"promote"}, "see bluegreen promote --help"},
		{"unknown command", []string{"deplyo"}, `unknown command "deplyo" for "bluegreen"`},
		{"missing spec file", []string{"namespace", "deploy", "--yes"}, "-f/--file is required"},
		{"server dry run of init", []string{"init", "shop", "--dry-run=server"}, "init's later steps act on the objects its first steps create"},
		{"controller watching a bad namespace name", []string{"controller", "--watch-namespace", "shop,Not_A_Namespace"}, `--watch-namespace "Not_A_Namespace" is not a namespace name`},
		{"controller leader timing out of order", []string{"controller", "--leader-elect", "--leader-elect-renew-deadline", "20s"},
			"--leader-elect-retry-period (2s) < --leader-elect-renew-deadline (20s) < --leader-elect-lease-duration (15s) must hold"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := Execute(context.Background(), append([]string{"bluegreen"}, tt.args...), strings.NewReader(""), &out, &errOut)
			if code != ExitInvalid || !strings.Contains(errOut.String(), tt.want) {
				t.Fatalf("exit %d, stderr %q; want exit 2 naming %q", code, errOut.String(), tt.want)
			}
		})
	}
}

// --help shows the exit codes.
func TestHelpListsExitCodes(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := Execute(context.Background(), []string{"bluegreen", "--help"}, strings.NewReader(""), &out, &errOut); code != ExitOK {
		t.Fatalf("--help: exit %d", code)
	}
	for _, want := range []string{"Exit codes:", "2  bad input or usage", "3  another run holds the lock", "4  the run failed and was rolled back"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("--help lacks %q:\n%s", want, out.String())
		}
	}
}

// version prints what the build was stamped with, and falls back on what
// the toolchain recorded.
func TestVersion(t *testing.T) {
	for _, tc := range []struct {
		name, version, commit, date string
		want                        []string
	}{
		{"stamped", "v1.2.3", "0123456789abcdef0123", "2026-12-03T10:00:00Z", []string{"bluegreen v1.2.3 (commit 0123456789ab, 2026-12-03T10:00:00Z)"}},
		{"not stamped", "", "", "", []string{"bluegreen "}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer func(v, c, d string) { Version, Commit, Date = v, c, d }(Version, Commit, Date)
			Version, Commit, Date = tc.version, tc.commit, tc.date
			var out, errOut bytes.Buffer
			if code := Execute(context.Background(), []string{"bluegreen", "version"}, strings.NewReader(""), &out, &errOut); code != ExitOK {
				t.Fatalf("version: exit %d: %s", code, errOut.String())
			}
			for _, w := range tc.want {
				if !strings.Contains(out.String(), w) {
					t.Fatalf("version printed %q, want %q", out.String(), w)
				}
			}
			if strings.Contains(out.String(), "bluegreen  ") || strings.Contains(out.String(), "bluegreen dev") {
				t.Fatalf("version printed no version: %q", out.String())
			}
			out.Reset()
			if code := Execute(context.Background(), []string{"bluegreen", "version", "-o", "json"}, strings.NewReader(""), &out, &errOut); code != ExitOK {
				t.Fatalf("version -o json: exit %d", code)
			}
			var b BuildInfo
			if err := json.Unmarshal(out.Bytes(), &b); err != nil || b.Version == "" || b.Go == "" || (tc.version != "" && b.Version != tc.version) {
				t.Fatalf("version -o json = %s, %v", out.String(), err)
			}
		})
	}
}
