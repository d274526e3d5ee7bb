package e2e

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

// bare runs the binary with args only: no kubeconfig flag, KUBECONFIG
// unset, an empty home folder.
func bare(t *testing.T, home string, args ...string) result {
	t.Helper()
	cmd := exec.Command(cliBin, args...)
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "KUBECONFIG=") && !strings.HasPrefix(kv, "HOME=") {
			env = append(env, kv)
		}
	}
	cmd.Env = append(env, "HOME="+home, "XDG_STATE_HOME=")
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	code := 0
	if err := cmd.Run(); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			t.Fatal(err)
		}
		code = ee.ExitCode()
	}
	return result{out.String(), errb.String(), code}
}

// kubectl's client flags work as kubectl's do: --as impersonates (a
// ServiceAccount bound to the shipped role reads the status, one bound to
// nothing is refused by the API server, which names it); --server, --token
// and --certificate-authority reach the cluster with no kubeconfig at all;
// with neither, the error says where a kubeconfig was looked for.
func TestKubectlClientFlags(t *testing.T) {
	e := newEnv(t)
	e.applyShippedRBAC()
	e.givenBlueGreenApp("shop", v1, 2)
	e.serviceAccount("releaser", "bluegreen-service")
	if _, err := e.kube.CoreV1().ServiceAccounts(e.ns).Create(context.Background(), &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "nobody"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	admin := e.machine("admin")

	// --as: the API server decides as that user.
	if r := admin.must("status", "shop", "-o", "json", "--as", "system:serviceaccount:"+e.ns+":releaser"); !strings.Contains(r.stdout, `"blue"`) {
		t.Fatalf("status --as the releaser:\n%s", r)
	}
	r := admin.cli("status", "shop", "--as", "system:serviceaccount:"+e.ns+":nobody")
	if r.code == 0 || !strings.Contains(r.stderr, "forbidden") || !strings.Contains(r.stderr, "system:serviceaccount:"+e.ns+":nobody") {
		t.Fatalf("status --as a user bound to nothing: want refused, naming the user:\n%s", r)
	}

	// -o as kubectl's: yaml, name, jsonpath, each one document.
	if r := admin.must("status", "shop", "-o", "jsonpath={.activeColor}"); strings.TrimSpace(r.stdout) != "blue" {
		t.Fatalf("status -o jsonpath={.activeColor}: %q", r.stdout)
	}
	if r := admin.must("status", "shop", "-o", "name"); strings.TrimSpace(r.stdout) != "appstatus.bluegreen.dev/shop" {
		t.Fatalf("status -o name: %q", r.stdout)
	}
	var doc struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
		Active     string `json:"activeColor"`
	}
	if r := admin.must("status", "shop", "-o", "yaml"); yaml.Unmarshal([]byte(r.stdout), &doc) != nil || doc.APIVersion != "bluegreen.dev/v1alpha1" || doc.Kind != "AppStatus" || doc.Active != "blue" {
		t.Fatalf("status -o yaml: %+v\n%s", doc, r.stdout)
	}
	if r := admin.cli("status", "shop", "-o", "jsonpath={.activeColor"); r.code != 2 || !strings.Contains(r.stderr, "unclosed action") {
		t.Fatalf("a bad jsonpath: want exit 2 naming the problem:\n%s", r)
	}

	// --server, --token, --certificate-authority: no kubeconfig needed.
	home := t.TempDir()
	ca := filepath.Join(home, "ca.crt")
	data := cluster.Config.CAData
	if len(data) == 0 {
		var err error
		if data, err = os.ReadFile(cluster.Config.CAFile); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(ca, data, 0o600); err != nil {
		t.Fatal(err)
	}
	tok := token(t, cluster, e.ns, "releaser")
	if r := bare(t, home, "status", "shop", "-n", e.ns, "-o", "json", "--server", cluster.Config.Host, "--token", tok, "--certificate-authority", ca); r.code != 0 || !strings.Contains(r.stdout, `"blue"`) {
		t.Fatalf("status with --server and --token only:\n%s", r)
	}
	if r := bare(t, home, "status", "shop", "-n", e.ns, "--server", cluster.Config.Host, "--token", tok, "--certificate-authority", ca, "--request-timeout", "soon"); r.code != 2 {
		t.Fatalf("a bad --request-timeout: want exit 2:\n%s", r)
	}

	// list shows the app once bluegreen has run on it, with its active
	// color, image and last run; completion offers its name.
	admin.must("deploy", "shop", "--image", v2, "--yes")
	if r := admin.must("list"); !regexp.MustCompile(`(?m)^shop\s+service\s+green\s+` + regexp.QuoteMeta(v2) + `\s+deploy\s+succeeded\s`).MatchString(r.stdout) {
		t.Fatalf("list after a release:\n%s", r.stdout)
	}
	if r := admin.must("list", "-A", "-o", "jsonpath={.items[?(@.app==\"shop\")].namespace}"); !strings.Contains(r.stdout, e.ns) {
		t.Fatalf("list -A: %q, want the app's namespace %s", r.stdout, e.ns)
	}
	if r := admin.must("__complete", "rollback", "sh"); !strings.Contains(r.stdout, "shop\tgreen "+v2) {
		t.Fatalf("completion of rollback's app:\n%s", r.stdout)
	}

	// Nothing at all: exit 2, saying where it looked and what to do.
	r = bare(t, home, "status", "shop", "-n", e.ns)
	if r.code != 2 || !strings.Contains(r.stderr, "no kubeconfig found: looked for $KUBECONFIG (not set) and "+filepath.Join(home, ".kube", "config")) ||
		!strings.Contains(r.stderr, "--kubeconfig") {
		t.Fatalf("status with no kubeconfig:\n%s", r)
	}
}
