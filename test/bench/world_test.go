package bench

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"

	"github.com/bluegreen/bluegreen/internal/runstore"
	"github.com/bluegreen/bluegreen/test/servicebed"
	"github.com/bluegreen/bluegreen/test/testbed"
)

// The app every scenario releases, and its size: each color runs replicas
// pods, and the old color stays at that size after a release (--keep-warm).
const (
	app      = "shop"
	replicas = 3
)

// settleTimeout bounds every wait for the cluster to reach a state.
const settleTimeout = 2 * time.Minute

// releaseBuild is how `make release` builds: static, without paths or
// symbols. The benchmark times the binary users install.
var releaseBuild = []string{"build", "-trimpath", "-ldflags", "-s -w"}

// goBuild runs `go build` as the release does, in dir ("" for here).
func goBuild(dir string, args ...string) ([]byte, error) {
	cmd := exec.Command("go", append(slices.Clone(releaseBuild), args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	return cmd.CombinedOutput()
}

// buildCLI builds the release's two programs into a temporary folder and
// returns the path of bluegreen, the lean build people type (it runs
// bluegreen-full, beside it, for migrate).
func buildCLI(b *testing.B) string {
	b.Helper()
	dir := b.TempDir()
	bin := filepath.Join(dir, "bluegreen")
	if out, err := goBuild("", "-tags", "lean", "-o", bin, "github.com/bluegreen/bluegreen/cmd/bluegreen"); err != nil {
		b.Fatalf("build bluegreen: %v\n%s", err, out)
	}
	if out, err := goBuild("", "-o", filepath.Join(dir, "bluegreen-full"), "github.com/bluegreen/bluegreen/cmd/bluegreen"); err != nil {
		b.Fatalf("build bluegreen-full: %v\n%s", err, out)
	}
	return bin
}

// buildKubectl builds (once, then cached with the test bed's binaries)
// upstream kubectl at the test bed's Kubernetes release and returns its
// path.
func buildKubectl(b *testing.B) string {
	b.Helper()
	cmd := exec.Command("bash", "hack/testbed.sh", "--kubectl")
	cmd.Dir = filepath.Join("..", "..")
	var errb bytes.Buffer
	cmd.Stderr = &errb
	out, err := cmd.Output()
	if err != nil {
		b.Fatalf("build kubectl (hack/testbed.sh --kubectl): %v\n%s", err, errb.String())
	}
	lines := strings.Fields(string(out))
	if len(lines) == 0 {
		b.Fatalf("hack/testbed.sh --kubectl printed no path\n%s", errb.String())
	}
	path := lines[len(lines)-1]
	if !filepath.IsAbs(path) {
		path = filepath.Join(cmd.Dir, path)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		b.Fatal(err)
	}
	return abs
}

// contender is a build of bluegreen under measurement; label is empty for
// this checkout's and the git ref of a baseline.
type contender struct {
	label string
	bin   string
}

// suffix marks a baseline's rows.
func (c contender) suffix() string {
	if c.label == "" {
		return ""
	}
	return " — baseline " + c.label
}

// buildCLIAt builds bluegreen as of git ref ref, from a temporary worktree
// of this repository.
func buildCLIAt(b *testing.B, ref string) string {
	b.Helper()
	dir := filepath.Join(b.TempDir(), "src")
	git := func(args ...string) {
		b.Helper()
		out, err := exec.Command("git", args...).CombinedOutput()
		if err != nil {
			b.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	git("worktree", "add", "--detach", dir, ref)
	b.Cleanup(func() { _ = exec.Command("git", "worktree", "remove", "--force", dir).Run() })
	// As its release built the program people type: lean where the ref
	// has that build (a ref before it ignores the tag).
	bin := filepath.Join(b.TempDir(), "bluegreen-baseline")
	if out, err := goBuild(dir, "-tags", "lean", "-o", bin, "./cmd/bluegreen"); err != nil {
		b.Fatalf("build bluegreen at %s: %v\n%s", ref, err, out)
	}
	return bin
}

// world is one scenario: a namespace of the shared cluster with a journal
// and an audit log of its own.
type world struct {
	b          *testing.B
	kube       kubernetes.Interface
	config     *rest.Config
	kubeconfig string
	bin        string
	// flags go before every CLI call's own arguments.
	flags   []string
	ns      string
	journal string
	audit   string
}

func newWorld(ctx context.Context, b *testing.B, c *testbed.Cluster, who contender, name string) *world {
	b.Helper()
	dir := b.TempDir()
	w := &world{b: b, kube: c.Client, config: c.Config, kubeconfig: c.Kubeconfig, bin: who.bin,
		ns:      fmt.Sprintf("bench-%s-%d", name, time.Now().UnixNano()%1_000_000),
		journal: filepath.Join(dir, "journal.db"), audit: filepath.Join(dir, "audit.jsonl")}
	w.flags = []string{"--kubeconfig", w.kubeconfig, "-n", w.ns, "--audit-log", w.audit}
	if who.label != "" {
		// A baseline may predate run records in the cluster: its journal
		// goes to the world's folder (newer builds ignore the flag).
		w.flags = append(w.flags, "--journal", w.journal)
	}
	if _, err := w.kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: w.ns}}, metav1.CreateOptions{}); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		_ = w.kube.CoreV1().Namespaces().Delete(context.WithoutCancel(ctx), w.ns, metav1.DeleteOptions{})
	})
	return w
}

// podPrefix is the name prefix of the pods of one color's Deployment.
func podPrefix(color string) string { return app + "-" + color + "-" }

func other(color string) string {
	if color == "blue" {
		return "green"
	}
	return "blue"
}

// install creates the blue/green layout: blue and green Deployments with the
// given sizes, the active Service on blue and the preview on green, and waits
// until it has settled.
func (w *world) install(ctx context.Context, blue, green int32) {
	w.b.Helper()
	if err := servicebed.InstallBlueGreen(ctx, w.kube, servicebed.App{Namespace: w.ns, Name: app, Image: "registry.example.com/shop:1.0.0", Blue: blue, Green: green}); err != nil {
		w.b.Fatal(err)
	}
	w.settle(ctx, "blue")
}

// settle waits until both Deployments have rolled out, no pod of the app is
// terminating, and the active Service routes to all the pods of active and
// no other: the state every timed run starts from.
func (w *world) settle(ctx context.Context, active string) {
	w.b.Helper()
	ctx, cancel := context.WithTimeout(ctx, settleTimeout)
	defer cancel()
	why := ""
	for {
		var ok bool
		ok, why = w.settled(ctx, active)
		if ok {
			return
		}
		select {
		case <-ctx.Done():
			w.b.Fatalf("namespace %s did not settle within %s: %s", w.ns, settleTimeout, why)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func (w *world) settled(ctx context.Context, active string) (bool, string) {
	var want int32
	activeSize := int32(0)
	for _, color := range []string{"blue", "green"} {
		d, err := w.kube.AppsV1().Deployments(w.ns).Get(ctx, app+"-"+color, metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		n, s := ptr.Deref(d.Spec.Replicas, 1), d.Status
		if s.ObservedGeneration < d.Generation || s.Replicas != n || s.UpdatedReplicas != n || s.ReadyReplicas != n || s.AvailableReplicas != n {
			return false, fmt.Sprintf("deployment %s: want %d replicas, status %+v", d.Name, n, s)
		}
		want += n
		if color == active {
			activeSize = n
		}
	}
	pods, err := w.kube.CoreV1().Pods(w.ns).List(ctx, metav1.ListOptions{LabelSelector: "app=" + app})
	if err != nil {
		return false, err.Error()
	}
	for _, p := range pods.Items {
		if p.DeletionTimestamp != nil {
			return false, "pod " + p.Name + " is terminating"
		}
	}
	if int32(len(pods.Items)) != want {
		return false, fmt.Sprintf("%d pods, want %d", len(pods.Items), want)
	}
	list, err := listSlices(ctx, w.kube, w.ns, app)
	if err != nil {
		return false, err.Error()
	}
	if ready, only := routes(setOf(list), podPrefix(active)); !only || ready != int(activeSize) {
		return false, fmt.Sprintf("service %s: %d ready endpoints of %s (want %d), others listed: %t", app, ready, active, activeSize, !only)
	}
	return true, ""
}

// activeColor is the color the active Service selects.
func (w *world) activeColor(ctx context.Context) string {
	w.b.Helper()
	svc, err := w.kube.CoreV1().Services(w.ns).Get(ctx, app, metav1.GetOptions{})
	if err != nil {
		w.b.Fatal(err)
	}
	return svc.Spec.Selector["track"]
}

// line is one line the CLI printed, with when it arrived, counted from the
// call.
type line struct {
	at   time.Duration
	text string
}

// call is what one CLI invocation did.
type call struct {
	cmd    string    // the program and its arguments
	t0     time.Time // just before the process started
	exit   time.Duration
	code   int
	out    []line // stdout
	stderr string
}

func (c call) String() string {
	return fmt.Sprintf("%s\nstdout:\n%sstderr:\n%s", c.cmd, c.stamped(), c.stderr)
}

// stamped is the stdout lines, each with when it arrived, and the exit.
func (c call) stamped() string {
	var b strings.Builder
	for _, l := range c.out {
		fmt.Fprintf(&b, "%7.1f ms  %s\n", ms(l.at), l.text)
	}
	fmt.Fprintf(&b, "%7.1f ms  (exit %d)\n", ms(c.exit), c.code)
	return b.String()
}

// find returns when the first stdout line whose fields start with want
// arrived.
func (c call) find(want ...string) (time.Duration, bool) {
	for _, l := range c.out {
		f := strings.Fields(l.text)
		if len(f) >= len(want) && slices.Equal(f[:len(want)], want) {
			return l.at, true
		}
	}
	return 0, false
}

// cli runs the bluegreen binary against the world's namespace and audit
// log, stamping every stdout line as it arrives.
func (w *world) cli(ctx context.Context, args ...string) call {
	w.b.Helper()
	return w.run(ctx, w.bin, nil, append(slices.Clone(w.flags), args...)...)
}

// run runs a program with env added to the benchmark's own, stamping every
// stdout line as it arrives.
func (w *world) run(ctx context.Context, bin string, env []string, args ...string) call {
	w.b.Helper()
	ctx, cancel := context.WithTimeout(ctx, settleTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), env...)
	var errb bytes.Buffer
	cmd.Stderr = &errb
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		w.b.Fatal(err)
	}
	c := call{cmd: filepath.Base(bin) + " " + strings.Join(args, " ")}
	c.t0 = time.Now()
	if err := cmd.Start(); err != nil {
		w.b.Fatalf("run %s: %v", bin, err)
	}
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		c.out = append(c.out, line{at: time.Since(c.t0), text: sc.Text()})
	}
	_, _ = io.Copy(io.Discard, stdout)
	err = cmd.Wait()
	c.exit = time.Since(c.t0)
	c.stderr = errb.String()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		c.code = ee.ExitCode()
	case err != nil:
		w.b.Fatalf("run %s %s: %v", bin, strings.Join(args, " "), err)
	}
	return c
}

// mustCLI runs the CLI and fails the benchmark unless it exits 0.
func (w *world) mustCLI(ctx context.Context, args ...string) call {
	w.b.Helper()
	c := w.cli(ctx, args...)
	if c.code != 0 {
		w.b.Fatalf("bluegreen %s: %s", strings.Join(args, " "), c)
	}
	return c
}

// runs reads the world's run records in the cluster.
func (w *world) runs() *runstore.Store {
	w.b.Helper()
	dyn, err := dynamic.NewForConfig(w.config)
	if err != nil {
		w.b.Fatal(err)
	}
	st, err := runstore.Open(context.Background(), w.kube, dyn, w.ns)
	if err != nil {
		w.b.Fatal(err)
	}
	return st
}
