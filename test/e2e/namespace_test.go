package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/bluegreen/bluegreen/test/gatewaybed"
	"github.com/bluegreen/bluegreen/test/servicebed"
)

// product is a namespace-scope product on the test bed: its services in a
// blue and a green namespace, two real nginx gateways in front of each
// namespace's entry point, and the release spec.
type product struct {
	e          *env
	blue, gree string // namespaces
	gws        []*gatewaybed.Nginx
	entry      map[string]*gatewaybed.Backend
	spec       string
}

// givenProduct is a product adopted by bluegreen, production on blue.
func givenProduct(t *testing.T, e *env) *product {
	t.Helper()
	p := newProduct(t, e)
	p.adopt(t)
	return p
}

// newProduct is a product running in blue, not yet adopted: its gateways
// serve nothing of it.
func newProduct(t *testing.T, e *env) *product {
	t.Helper()
	ctx := context.Background()
	p := &product{e: e, blue: e.ns + "-blue", gree: e.ns + "-green"}
	// The product runs in blue; green is an empty namespace so far.
	for _, ns := range []string{p.blue, p.gree} {
		if _, err := e.kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = e.kube.CoreV1().Namespaces().Delete(context.Background(), ns, metav1.DeleteOptions{}) })
	}
	for _, svc := range []string{"payment", "user-login"} {
		wctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		err := servicebed.InstallPlain(wctx, e.kube, p.blue, svc, v1, 2)
		cancel()
		if err != nil {
			t.Fatal(err)
		}
	}
	p.gws = []*gatewaybed.Nginx{gatewaybed.StartNginx(t, "gw-1"), gatewaybed.StartNginx(t, "gw-2")}
	entry := map[string]*gatewaybed.Backend{"blue": gatewaybed.StartBackend(t, "blue", "payments", "v1"), "green": gatewaybed.StartBackend(t, "green", "payments", "v2")}
	p.entry = entry
	gateways := gatewaybed.Gateways(p.gws...)
	gateway := map[string]any{"router": "nginx", "prodHost": "myapp.com", "preprodHost": "preprod.myapp.com", "gateways": gateways, "adopt": "myapp.conf",
		"upstreams": map[string]any{"blue": map[string]any{"servers": []string{entry["blue"].Addr()}}, "green": map[string]any{"servers": []string{entry["green"].Addr()}}}}
	spec := map[string]any{"kind": "NamespaceRelease", "product": "payments", "namespaces": map[string]string{"blue": p.blue, "green": p.gree},
		"services": []map[string]string{{"name": "payment"}, {"name": "user-login"}}, "gateway": gateway}
	data, err := json.MarshalIndent(spec, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	p.spec = filepath.Join(t.TempDir(), "payments.yaml")
	if err := os.WriteFile(p.spec, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// adopt runs namespace init with production on blue.
func (p *product) adopt(t *testing.T) {
	t.Helper()
	e, ctx := p.e, context.Background()
	// bluegreen adopts it: green gets the services at 0 replicas, and the
	// gateways bluegreen's file, with production on blue as before.
	e.machine("ops").must("namespace", "init", "-f", p.spec, "--active", "blue")
	for _, svc := range []string{"payment", "user-login"} {
		d, err := e.kube.AppsV1().Deployments(p.gree).Get(ctx, svc, metav1.GetOptions{})
		if err != nil || *d.Spec.Replicas != 0 || d.Spec.Template.Spec.Containers[0].Image != v1 {
			t.Fatalf("%s/%s after init: %v; want a copy of blue's at 0 replicas", p.gree, svc, err)
		}
	}
	p.serves(t, "blue", "green")
}

func (p *product) addrs() []string { return []string{p.gws[0].Address(), p.gws[1].Address()} }

// serves checks, through every gateway, which color each host reaches.
func (p *product) serves(t *testing.T, prod, preprod string) {
	t.Helper()
	for _, g := range p.gws {
		for host, want := range map[string]string{"myapp.com": prod, "preprod.myapp.com": preprod} {
			resp, a, err := gatewaybed.Get(context.Background(), g.Address(), host, "/")
			if err != nil || resp.StatusCode != 200 || a.Color != want {
				t.Fatalf("%s via %s: %v from %q, want %s", host, g.Name, err, a.Color, want)
			}
		}
	}
}

// A product's release through the CLI, under 1,000 requests a second
// through both gateways: deploy switches every gateway to green, rollback
// switches them back, and not one request fails. A paused release is
// aborted, and bad input changes nothing.
func TestNamespaceReleaseUnderLoad(t *testing.T) {
	e := newEnv(t)
	p := givenProduct(t, e)
	ops := e.machine("ops")
	load := gatewaybed.StartLoad(t, p.addrs(), "myapp.com", "/pay", 1000)
	time.Sleep(time.Second)

	// When a release of payment v2 runs, checked through the preprod host
	// on both gateways and watched for 2s through the production host,
	// and is rolled back
	checked := p.variant(t, func(spec map[string]any) {
		spec["services"].([]any)[0].(map[string]any)["checks"] = []any{map[string]any{"name": "healthz",
			"http": map[string]any{"url": "/payment/healthz", "bodyContains": `"color":"green"`}}}
		spec["checks"] = []any{map[string]any{"name": "home", "http": map[string]any{"url": "/", "expectStatus": 200}}}
		spec["watchWindow"], spec["watchInterval"] = "2s", "500ms"
	})
	r := ops.must("namespace", "deploy", "-f", checked, "--image", "payment="+v2, "--yes")
	for _, want := range []string{"check-preprod/payment", "check-preprod", "watch", "succeeded"} {
		if !strings.Contains(r.stdout, want) {
			t.Fatalf("deploy output lacks %q:\n%s", want, r)
		}
	}
	p.serves(t, "green", "blue")
	st := ops.must("namespace", "status", "-f", p.spec, "-o", "json")
	var view struct {
		Production map[string]int `json:"production"`
		LastRun    struct{ State string }
	}
	if err := json.Unmarshal([]byte(st.stdout), &view); err != nil || view.Production["green"] != 100 || view.LastRun.State != "succeeded" {
		t.Fatalf("status after the release: %v\n%s", err, st.stdout)
	}
	dep, err := e.kube.AppsV1().Deployments(p.gree).Get(context.Background(), "payment", metav1.GetOptions{})
	if err != nil || dep.Spec.Template.Spec.Containers[0].Image != v2 || *dep.Spec.Replicas != 2 {
		t.Fatalf("%s/payment after the release: %v", p.gree, err)
	}
	time.Sleep(time.Second)
	e.machine("oncall").must("namespace", "rollback", "-f", p.spec)
	p.serves(t, "blue", "green")
	time.Sleep(time.Second)

	// Then not one request failed, and both colors answered in turn
	sum := gatewaybed.Summarize(load.Stop())
	t.Logf("%d requests through the gateways: %v, %d failed; p50 %s, p99 %s", sum.Total, sum.ByColor, sum.Failed, sum.P50, sum.P99)
	if sum.Failed > 0 {
		t.Fatalf("%d of %d requests failed during the release and the rollback, e.g. %q", sum.Failed, sum.Total, sum.FirstFailures)
	}
	if sum.ByColor["blue"] == 0 || sum.ByColor["green"] == 0 {
		t.Fatalf("responses by color %v: want both", sum.ByColor)
	}

	// When a release pauses before the switch and is aborted
	if r := ops.must("namespace", "deploy", "-f", p.spec, "--image", "payment="+v3, "--pause"); !strings.Contains(r.stdout, "namespace promote") {
		t.Fatalf("deploy --pause output:\n%s", r)
	}
	p.serves(t, "blue", "green")
	ops.must("namespace", "abort", "-f", p.spec)
	p.serves(t, "blue", "green")

	// And a paused release promoted from another machine switches both
	// gateways, after which abort is refused in favour of rollback
	ops.must("namespace", "deploy", "-f", p.spec, "--image", "payment="+v3, "--pause")
	e.machine("approver").must("namespace", "promote", "-f", p.spec)
	p.serves(t, "green", "blue")
	if r := ops.cli("namespace", "abort", "-f", p.spec); r.code != 2 || !strings.Contains(r.stderr, "namespace rollback -f") {
		t.Fatalf("abort of a release that switched: want exit 2 pointing at rollback, got %s", r)
	}
	ops.must("namespace", "rollback", "-f", p.spec)
	p.serves(t, "blue", "green")

	// And bad input exits non-zero (2 when the input itself is wrong),
	// naming the problem, with nothing changed
	before := strings.Join(gatewayFiles(t, p), "")
	noNS := p.variant(t, func(spec map[string]any) { spec["namespaces"].(map[string]any)["green"] = "no-such-namespace" })
	noDir := p.variant(t, func(spec map[string]any) {
		gw := spec["gateway"].(map[string]any)["gateways"].([]any)[1].(map[string]any)
		gw["configDir"] = filepath.Join(t.TempDir(), "no-such-folder")
	})
	for _, tt := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"namespace", "deploy", "-f", p.spec, "--image", "nosuch=" + v2, "--yes"}, 2, `--image "nosuch=`},
		{[]string{"namespace", "deploy", "-f", p.spec, "--yes"}, 2, "no service has an image"},
		{[]string{"namespace", "deploy", "--yes"}, 2, "-f/--file is required"},
		{[]string{"namespace", "deploy", "-f", noNS, "--image", "payment=" + v2, "--yes"}, 2, "namespace no-such-namespace (green) does not exist"},
		{[]string{"namespace", "deploy", "-f", noDir, "--image", "payment=" + v2, "--yes"}, 1, "gateway gw-2: config folder"},
	} {
		if r := ops.cli(tt.args...); r.code != tt.code || !strings.Contains(r.stderr, tt.want) {
			t.Fatalf("%v: want exit %d naming %q, got %s", tt.args, tt.code, tt.want, r)
		}
	}
	if after := strings.Join(gatewayFiles(t, p), ""); after != before {
		t.Fatal("bad input changed a gateway's file")
	}
}

// variant writes a copy of the product's spec changed by edit.
func (p *product) variant(t *testing.T, edit func(map[string]any)) string {
	t.Helper()
	data, err := os.ReadFile(p.spec)
	if err != nil {
		t.Fatal(err)
	}
	var spec map[string]any
	if err := json.Unmarshal(data, &spec); err != nil {
		t.Fatal(err)
	}
	edit(spec)
	out, err := json.Marshal(spec)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "variant.yaml")
	if err := os.WriteFile(path, out, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func gatewayFiles(t *testing.T, p *product) []string {
	t.Helper()
	var out []string
	for _, g := range p.gws {
		data, err := os.ReadFile(filepath.Join(g.ConfigDir, "bluegreen-payments.conf"))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, string(data))
	}
	return out
}

// A release killed with SIGKILL at every step boundary, and between the
// two gateways, is finished by resume from another machine: both
// gateways end on the new color, and the run succeeds.
func TestNamespaceKilledAtEveryStepBoundaryResumes(t *testing.T) {
	e := newEnv(t)
	p := givenProduct(t, e)
	ops := e.machine("ops")
	plan := ops.must("namespace", "plan", "-f", p.spec, "--image", "payment="+v2)
	var points []string
	for _, line := range strings.Split(plan.stdout, "\n") {
		var n int
		var name string
		if _, err := fmt.Sscanf(strings.TrimSpace(line), "%d. %s", &n, &name); err == nil {
			for _, phase := range []string{"started", "acted", "done"} {
				points = append(points, name+"/"+phase)
			}
		}
	}
	if len(points) < 20 {
		t.Fatalf("plan has %d boundaries:\n%s", len(points), plan.stdout)
	}
	points = append(points, "switch/gateway-gw-1")
	active, idle := "blue", "green"
	for i, at := range points {
		killed := ops.cliWith([]string{"BLUEGREEN_TEST_CRASH_AT=" + at}, "namespace", "deploy", "-f", p.spec, "--image", "payment="+v2, "--yes")
		if killed.code != -1 {
			t.Fatalf("deploy with a crash at %s: want SIGKILL, got %s", at, killed)
		}
		r := e.machine(fmt.Sprintf("elsewhere-%d", i)).cli("namespace", "resume", "-f", p.spec)
		switch {
		case r.code == 0:
			p.serves(t, idle, active)
			st := ops.must("namespace", "status", "-f", p.spec, "-o", "json")
			if !strings.Contains(st.stdout, `"state": "succeeded"`) {
				t.Fatalf("after a crash at %s and resume: %s", at, st.stdout)
			}
			active, idle = idle, active
		case r.code == 2 && strings.Contains(r.stderr, "nothing to resume"):
			// Killed before the run's first write was done (a skipped
			// step of another lane passed its boundary meanwhile): no
			// step acted, since each acts only once its start is written,
			// so there is nothing to resume and production stays put.
			p.serves(t, active, idle)
			t.Logf("crash at %s came before the run's first write: nothing acted", at)
		default:
			t.Fatalf("resume after a crash at %s: %s", at, r)
		}
	}
}

// What goes wrong with the gateways, through the CLI: bad input is refused
// before anything is written; a check failing through the preprod host, a
// config nginx rejects, and a gateway that dies mid-switch each end with
// every gateway as it was, production on one color, and the error naming
// the check or the gateway.
func TestNamespaceFailuresLeaveProductionWhole(t *testing.T) {
	e := newEnv(t)
	p := givenProduct(t, e)
	ops := e.machine("ops")
	before := strings.Join(gatewayFiles(t, p), "")
	unchanged := func(what string) {
		t.Helper()
		if after := strings.Join(gatewayFiles(t, p), ""); after != before {
			t.Fatalf("%s changed a gateway's file", what)
		}
		p.serves(t, "blue", "green")
	}
	rolledBack := func(what string) {
		t.Helper()
		st := ops.must("namespace", "status", "-f", p.spec, "-o", "json")
		var view struct{ LastRun struct{ State string } }
		if err := json.Unmarshal([]byte(st.stdout), &view); err != nil || view.LastRun.State != "rolled-back" {
			t.Fatalf("after %s: want the run rolled back to the end, got %v\n%s", what, err, st.stdout)
		}
	}
	deploy := func(spec string) result {
		return ops.cli("namespace", "deploy", "-f", spec, "--image", "payment="+v2, "--yes")
	}
	gateway := func(spec map[string]any, i int) map[string]any {
		return spec["gateway"].(map[string]any)["gateways"].([]any)[i].(map[string]any)
	}
	sshd := gatewaybed.StartSSHD(t)
	overSSH := func(knownHosts string) func(map[string]any) {
		return func(spec map[string]any) {
			gateway(spec, 1)["ssh"] = map[string]any{"address": sshd.Address, "user": sshd.User, "identityFile": sshd.IdentityFile, "knownHosts": knownHosts}
		}
	}

	// A dry run prints the plan and changes nothing.
	for _, args := range [][]string{
		{"namespace", "deploy", "-f", p.spec, "--image", "payment=" + v2, "--dry-run"},
		{"namespace", "init", "-f", p.spec, "--active", "blue", "--dry-run"},
	} {
		if r := ops.must(args...); !strings.Contains(r.stdout, "Plan:") || !strings.Contains(r.stdout, "nothing changed yet") {
			t.Fatalf("%v: want the plan, got %s", args, r)
		}
		unchanged("a dry run")
	}

	// Bad input: refused before the first write, naming the problem.
	for _, tt := range []struct {
		name string
		edit func(map[string]any)
		want []string
	}{
		{"a host the gateways do not route", func(spec map[string]any) { spec["gateway"].(map[string]any)["prodHost"] = "shop.com" },
			[]string{"gateway gw-1 routes production host myapp.com", "not shop.com"}},
		{"an SSH host key that is not the one in known_hosts", overSSH(sshd.WrongKnownHosts(t)),
			[]string{"gateway gw-2", "does not match", "no gateway was changed"}},
		{"an unreachable gateway", func(spec map[string]any) {
			gateway(spec, 1)["ssh"] = map[string]any{"address": "127.0.0.1:1", "user": sshd.User, "identityFile": sshd.IdentityFile, "knownHosts": sshd.KnownHosts}
		}, []string{"gateway gw-2", "no gateway was changed"}},
		{"a config folder that is a file", func(spec map[string]any) { gateway(spec, 0)["configDir"] = p.gws[0].Conf() },
			[]string{"gateway gw-1: config folder", "is not a folder"}},
	} {
		r := deploy(p.variant(t, tt.edit))
		for _, w := range tt.want {
			if r.code == 0 || !strings.Contains(r.stderr, w) {
				t.Fatalf("%s: want a non-zero exit naming %q, got %s", tt.name, w, r)
			}
		}
		unchanged(tt.name)
		if d, err := e.kube.AppsV1().Deployments(p.gree).Get(context.Background(), "payment", metav1.GetOptions{}); err != nil || *d.Spec.Replicas != 0 || d.Spec.Template.Spec.Containers[0].Image != v1 {
			t.Fatalf("%s: %s/payment was changed: %v", tt.name, p.gree, err)
		}
	}
	// The same gateway over SSH with the right key works.
	r := deploy(p.variant(t, overSSH(sshd.KnownHosts)))
	if r.code != 0 {
		t.Fatalf("deploy with gw-2 over SSH: %s", r)
	}
	p.serves(t, "green", "blue")
	ops.must("namespace", "rollback", "-f", p.spec)
	unchanged("a release and its rollback")

	// A service missing in the idle namespace: exit 2, naming it.
	if err := e.kube.AppsV1().Deployments(p.gree).Delete(context.Background(), "user-login", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if r := deploy(p.spec); r.code != 2 || !strings.Contains(r.stderr, "no Deployment user-login in namespace "+p.gree) {
		t.Fatalf("deploy with user-login missing in green: %s", r)
	}
	unchanged("a service missing in the idle namespace")
	ops.must("namespace", "init", "-f", p.spec, "--active", "blue")

	// A check through the preprod host that fails: the run rolls back,
	// naming the check, the service and the gateway.
	failing := p.variant(t, func(spec map[string]any) {
		spec["services"].([]any)[0].(map[string]any)["checks"] = []any{map[string]any{"name": "wants-v9",
			"http": map[string]any{"url": "/payment/healthz", "bodyContains": `"version":"v9"`, "retries": 1}}}
	})
	if r := deploy(failing); r.code == 0 || !strings.Contains(r.stderr, "check wants-v9 of payment through gw-1 (Host preprod.myapp.com) failed") {
		t.Fatalf("deploy with a failing check: %s", r)
	}
	unchanged("a failing check")
	rolledBack("a failing check")

	// A rendered config nginx rejects: no gateway changed.
	rejected := p.variant(t, func(spec map[string]any) {
		spec["gateway"].(map[string]any)["upstreams"].(map[string]any)["green"] = map[string]any{"servers": []string{"no-such-host.invalid:80"}}
	})
	if r := deploy(rejected); r.code == 0 || !strings.Contains(r.stderr, "gateway gw-1") || !strings.Contains(r.stderr, "no-such-host.invalid") {
		t.Fatalf("deploy with a config nginx rejects: %s", r)
	}
	unchanged("a rejected config")
	rolledBack("a rejected config")

	// A gateway down mid-switch: gw-1 switches, gw-2 cannot reload, and
	// gw-1 is put back.
	p.gws[1].Stop()
	if r := deploy(p.spec); r.code == 0 || !strings.Contains(r.stderr, "gateway gw-2") {
		t.Fatalf("deploy with gw-2 down: %s", r)
	}
	if after := strings.Join(gatewayFiles(t, p), ""); after != before {
		t.Fatal("a switch with gw-2 down left a gateway's file changed")
	}
	resp, a, err := gatewaybed.Get(context.Background(), p.gws[0].Address(), "myapp.com", "/")
	if err != nil || resp.StatusCode != 200 || a.Color != "blue" {
		t.Fatalf("production through gw-1 after gw-2 failed the switch: %v from %q, want blue", err, a.Color)
	}
	rolledBack("a gateway down mid-switch")
}

// A product that each gateway serves from a file of the user's own is
// adopted under 1,000 requests a second through both gateways: init moves
// that file aside in the reload that brings bluegreen's in, and not one
// request fails.
func TestNamespaceInitUnderLoad(t *testing.T) {
	p := newProduct(t, newEnv(t))
	own := map[string]string{}
	for _, g := range p.gws {
		conf := fmt.Sprintf("server {\n    listen %s;\n    server_name myapp.com;\n    location / { proxy_pass http://%s; }\n}\n", g.Address(), p.entry["blue"].Addr())
		own[g.Name] = conf
		if err := os.WriteFile(filepath.Join(g.ConfigDir, "myapp.conf"), []byte(conf), 0o644); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command(g.Reload()[0], g.Reload()[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("reload %s: %v: %s", g.Name, err, out)
		}
		// A reload takes effect once nginx's new workers take requests.
		for i := 0; ; i++ {
			resp, a, err := gatewaybed.Get(context.Background(), g.Address(), "myapp.com", "/")
			if err == nil && resp.StatusCode == 200 && a.Color == "blue" {
				break
			}
			if i == 100 {
				t.Fatalf("%s does not serve myapp.com from its own file: %v", g.Name, err)
			}
			time.Sleep(50 * time.Millisecond)
		}
		// And no worker of the configuration before it, which routes no
		// myapp.com, still takes connections.
		settle, cancel := context.WithTimeout(t.Context(), 30*time.Second)
		err := g.Settled(settle)
		cancel()
		if err != nil {
			t.Fatal(err)
		}
	}
	load := gatewaybed.StartLoad(t, p.addrs(), "myapp.com", "/pay", 1000)
	time.Sleep(2 * time.Second)

	// When bluegreen adopts the product
	p.adopt(t)
	time.Sleep(time.Second)

	// Then not one request failed, all answered by blue
	sum := gatewaybed.Summarize(load.Stop())
	t.Logf("%d requests through the gateways during init: %v, %d failed; p50 %s, p99 %s", sum.Total, sum.ByColor, sum.Failed, sum.P50, sum.P99)
	if sum.Failed > 0 || sum.Total < 2000 || sum.ByColor["blue"] != sum.Total {
		t.Fatalf("%d of %d requests failed during init (by color %v), e.g. %q", sum.Failed, sum.Total, sum.ByColor, sum.FirstFailures)
	}
	// And each gateway's own file is kept aside, the file itself emptied
	for _, g := range p.gws {
		kept, err := os.ReadFile(filepath.Join(g.ConfigDir, "myapp.conf.adopted-by-bluegreen"))
		if err != nil || string(kept) != own[g.Name] {
			t.Fatalf("%s: the adopted file's copy: %v\n%s", g.Name, err, kept)
		}
		now, err := os.ReadFile(filepath.Join(g.ConfigDir, "myapp.conf"))
		if err != nil || !strings.HasPrefix(string(now), "# bluegreen-adopted: ") {
			t.Fatalf("%s: myapp.conf after init: %v\n%s", g.Name, err, now)
		}
	}
}
