package cli

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/bluegreen/bluegreen/internal/plan"
)

func parseRelease(t *testing.T, app string, args ...string) (plan.ServiceRelease, error) {
	t.Helper()
	var f releaseFlags
	cmd := &cobra.Command{Use: "deploy"}
	f.bind(cmd)
	if err := cmd.ParseFlags(args); err != nil {
		t.Fatal(err)
	}
	return f.release(cmd, app, "prod")
}

func TestFlagsOverrideSpecFile(t *testing.T) {
	spec := filepath.Join(t.TempDir(), "release.yaml")
	body := "kind: ServiceRelease\napp: shop\nimage: shop:1\nkeepWarm: 2\nscaleDownDelay: 30s\n" +
		"checks:\n- name: health\n  http: {url: /healthz, retries: 3}\n"
	if err := os.WriteFile(spec, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		args  []string
		check func(plan.ServiceRelease) string
	}{
		{"file alone", []string{"-f", spec}, func(r plan.ServiceRelease) string {
			if r.Image != "shop:1" || r.KeepWarm == nil || *r.KeepWarm != 2 || r.ScaleDownDelay.D() != 30*time.Second || len(r.Checks) != 1 {
				return "file fields not read"
			}
			return ""
		}},
		{"flags win", []string{"-f", spec, "--image", "shop:2", "--keep-warm", "0", "--yes"}, func(r plan.ServiceRelease) string {
			if r.Image != "shop:2" || r.KeepWarm == nil || *r.KeepWarm != 0 || r.Approval != "auto" || r.ScaleDownDelay.D() != 30*time.Second {
				return "flags did not override, or overrode unset fields"
			}
			return ""
		}},
		{"check flags add checks", []string{"-f", spec, "--health-url", "/ready", "--smoke-cmd", "./smoke.sh", "--pause"}, func(r plan.ServiceRelease) string {
			if len(r.Checks) != 3 || r.Checks[1].HTTP.URL != "/ready" || r.Checks[2].Smoke.Script != "./smoke.sh" || r.Approval != "pause" {
				return "checks or approval wrong"
			}
			return ""
		}},
		{"defaults", []string{"--image", "shop:3", "--env", "A=1", "--env", "B=x=y"}, func(r plan.ServiceRelease) string {
			if r.ColorLabel != "track" || r.ActiveService != "shop" || r.PreviewService != "shop-preview" || r.Env["B"] != "x=y" || r.Approval != "prompt" ||
				r.KeepWarm != nil || r.ScaleDownDelay != 0 {
				return "defaults or env wrong"
			}
			return ""
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := parseRelease(t, "shop", tt.args...)
			if err != nil {
				t.Fatal(err)
			}
			if msg := tt.check(r); msg != "" {
				t.Fatalf("%s: %+v", msg, r)
			}
		})
	}
}

func TestReleaseInputErrors(t *testing.T) {
	dir := t.TempDir()
	unknown := filepath.Join(dir, "unknown.yaml")
	_ = os.WriteFile(unknown, []byte("app: shop\nimage: shop:1\nreplicas: 3\n"), 0o600)
	other := filepath.Join(dir, "other.yaml")
	_ = os.WriteFile(other, []byte("app: cart\n"), 0o600)
	tests := []struct {
		name string
		app  string
		args []string
		want string
	}{
		{"unknown field", "", []string{"-f", unknown}, `unknown field "replicas"`},
		{"missing file", "", []string{"-f", filepath.Join(dir, "nope.yaml")}, "read spec file"},
		{"app mismatch", "shop", []string{"-f", other}, `app "shop" on the command line but "cart"`},
		{"no app", "", []string{"--image", "x:1"}, "no app given"},
		{"bad env", "shop", []string{"--env", "NOEQUALS"}, `want KEY=VALUE`},
		{"yes and pause", "shop", []string{"--yes", "--pause"}, "contradict"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseRelease(t, tt.app, tt.args...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want it to contain %q", err, tt.want)
			}
			if exitCode(err) != ExitInvalid && !errors.Is(err, errUsage) {
				t.Fatalf("exit code %d for %v, want %d", exitCode(err), err, ExitInvalid)
			}
		})
	}
}

// Installed as kubectl-bluegreen, the help speaks of `kubectl bluegreen`.
func TestKubectlPluginName(t *testing.T) {
	for _, tt := range []struct{ argv0, want string }{
		{"/usr/local/bin/kubectl-bluegreen", "kubectl bluegreen [command]"},
		{"bluegreen", "bluegreen [command]"},
	} {
		var out, errb strings.Builder
		if code := Execute(t.Context(), []string{tt.argv0, "--help"}, strings.NewReader(""), &out, &errb); code != ExitOK {
			t.Fatalf("%s --help: exit %d: %s", tt.argv0, code, errb.String())
		}
		if !strings.Contains(out.String(), tt.want) {
			t.Fatalf("%s --help does not show %q:\n%s", tt.argv0, tt.want, out.String())
		}
	}
}
