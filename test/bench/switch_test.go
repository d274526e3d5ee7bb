package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/bluegreen/bluegreen/internal/audit"
	"github.com/bluegreen/bluegreen/internal/journal"
	"github.com/bluegreen/bluegreen/internal/kube"
	"github.com/bluegreen/bluegreen/internal/redact"
	"github.com/bluegreen/bluegreen/test/testbed"
)

// warmup is how many runs of each scenario go first and are not counted:
// they page the binary and the API server's caches in.
const warmup = 1

// nodes is the number of fake nodes of the test-bed cluster.
const nodes = 3

// BenchmarkSwitch measures promote and rollback latency on a test-bed
// cluster, against a bare `kubectl patch` of the selector run as a process
// and the floor of the same patch sent by client-go, BENCH_RUNS times each
// (default 30), interleaved round by round, and prints the results. Run it
// once: -benchtime 1x.
func BenchmarkSwitch(b *testing.B) {
	ctx := b.Context()
	runs := benchRuns(b)
	load := loadAvg()
	cluster := testbed.StartT(b, testbed.Options{Nodes: nodes})
	bin := buildCLI(b)
	kubectl := buildKubectl(b)
	rep := newReport(runs)
	// With BENCH_BASELINE=<git ref>, promote and rollback also run that
	// build, in turn with this one in every round, for a same-run
	// comparison.
	contenders := []contender{{bin: bin}}
	if ref := os.Getenv("BENCH_BASELINE"); ref != "" {
		contenders = append(contenders, contender{label: ref, bin: buildCLIAt(b, ref)})
	}
	b.Run("interleaved", func(b *testing.B) {
		benchInterleaved(ctx, b, cluster, contenders, kubectl, runs, rep)
	})
	b.Run("auto-rollback", func(b *testing.B) {
		benchAutoRollback(ctx, b, newWorld(ctx, b, cluster, contenders[0], "autorollback"), runs, rep)
	})
	b.Run("costs", func(b *testing.B) {
		benchCosts(ctx, b, newWorld(ctx, b, cluster, contenders[0], "costs"), kubectl, runs, rep)
	})
	rep.print(os.Stdout, describeMachine(cluster, load))
}

// benchRuns reads BENCH_RUNS, the number of timed runs of each scenario.
func benchRuns(b *testing.B) int {
	b.Helper()
	v := os.Getenv("BENCH_RUNS")
	if v == "" {
		return 30
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		b.Fatalf("BENCH_RUNS=%q: want a positive number of runs", v)
	}
	return n
}

// image is the image the n-th release sets; each release changes it.
func image(n int) string { return fmt.Sprintf("registry.example.com/shop:1.0.%d", n+1) }

// reportSwitch reports a sample as the benchmark's result: ns/op is its
// median, beside the median and p99 in ms.
func reportSwitch(b *testing.B, s sample) {
	sum := s.summary()
	b.ReportMetric(float64(sum.median.Nanoseconds()), "ns/op")
	b.ReportMetric(ms(sum.median), "median-ms")
	b.ReportMetric(ms(sum.p99), "p99-ms")
}

// benchInterleaved times, round by round, every contender's promote and
// rollback, a bare `kubectl patch` of the selector run as a process (what a
// user would otherwise type), and the same patch sent by client-go on a
// warm connection (the floor: no process, no tool). Each runs in a namespace
// of its own; one round does one run of each, so all four see the same
// machine load. Each clock stops when the active Service's EndpointSlices
// list only the target color.
func benchInterleaved(ctx context.Context, b *testing.B, cluster *testbed.Cluster, cs []contender, kubectl string, runs int, rep *report) {
	var promotes, rollbacks []*world
	for i, c := range cs {
		promotes = append(promotes, newWorld(ctx, b, cluster, c, fmt.Sprintf("promote-%d", i)))
		rollbacks = append(rollbacks, newWorld(ctx, b, cluster, c, fmt.Sprintf("rollback-%d", i)))
	}
	patch := newWorld(ctx, b, cluster, cs[0], "patch")
	kw := newWorld(ctx, b, cluster, cs[0], "kubectl")
	for _, w := range append(promotes, rollbacks...) {
		w.install(ctx, replicas, 0)
	}
	patch.install(ctx, replicas, replicas)
	kw.install(ctx, replicas, replicas)
	// kubectl keeps its discovery cache here, as it does in a user's home:
	// the warm-up run fills it.
	kcache := b.TempDir()

	pph, rph := make([]phases, len(cs)), make([]phases, len(cs))
	var slowP, slowR slowest
	var floor, answered, kmoved, kexit sample
	pActive, fActive, kActive := "blue", "blue", "blue"
	for i := -warmup; i < runs; i++ {
		for j, w := range promotes {
			c, movedAt := promoteOnce(ctx, b, w, i, pActive)
			if i >= 0 {
				pph[j].add(b, c, movedAt, []string{"Run"}, []string{"→", "switch"}, []string{"✓", "switch"})
				if j == 0 {
					slowP.keep(c, movedAt)
				}
			}
		}
		pActive = other(pActive)
		for j, w := range rollbacks {
			c, movedAt := rollbackOnce(ctx, b, w, i)
			if i >= 0 {
				rph[j].add(b, c, movedAt, []string{"Rolling", "back:"}, []string{"↶", "switch", "undoing"}, []string{"↶", "switch", "undone"})
				if j == 0 {
					slowR.keep(c, movedAt)
				}
			}
		}
		c, movedAt := kubectlPatchOnce(ctx, b, kw, kubectl, kcache, kActive)
		if i >= 0 {
			kmoved = append(kmoved, movedAt.Sub(c.t0))
			kexit = append(kexit, c.exit)
		}
		kActive = other(kActive)
		moved, ans := selectorPatchOnce(ctx, b, patch, fActive)
		if i >= 0 {
			floor = append(floor, moved)
			answered = append(answered, ans)
		}
		fActive = other(fActive)
	}

	rep.add("selector patch by client-go → EndpointSlices list only the new color (floor)", floor)
	rep.add("selector patch by client-go → API server answered the patch", answered)
	rep.add("`kubectl patch` of the selector: call → EndpointSlices list only the new color", kmoved)
	rep.add("`kubectl patch` of the selector: call → process exit", kexit)
	for j, c := range cs {
		rep.add("promote: call → EndpointSlices list only the new color"+c.suffix(), pph[j].moved)
		rep.add("promote: call → CLI exit"+c.suffix(), pph[j].exit)
		rep.add("promote: EndpointSlices moved → CLI exit"+c.suffix(), pph[j].afterSwitch())
		rep.add("rollback: call → EndpointSlices list only the old color"+c.suffix(), rph[j].moved)
		rep.add("rollback: call → CLI exit"+c.suffix(), rph[j].exit)
	}
	rep.ratio("promote / `kubectl patch` (target ≤ 0.5)", pph[0].moved, kmoved)
	rep.ratio("rollback / `kubectl patch` (target ≤ 0.5)", rph[0].moved, kmoved)
	rep.ratio("promote / client-go floor", pph[0].moved, floor)
	rep.ratio("rollback / client-go floor", rph[0].moved, floor)
	rep.ratio("`kubectl patch` / client-go floor", kmoved, floor)
	rep.compare("promote: call → EndpointSlices list only the new color", cs, pph, func(p phases) sample { return p.moved })
	rep.compare("promote: call → CLI exit", cs, pph, func(p phases) sample { return p.exit })
	rep.compare("rollback: call → EndpointSlices list only the old color", cs, rph, func(p phases) sample { return p.moved })
	rep.compare("rollback: call → CLI exit", cs, rph, func(p phases) sample { return p.exit })
	rep.phases["promote"], rep.phases["rollback"] = &pph[0], &rph[0]
	rep.slow["promote"], rep.slow["rollback"] = slowP, slowR
	reportSwitch(b, pph[0].moved)
}

// promoteOnce times `bluegreen promote` of a paused release from active to
// the other color. The release before it (--pause) leaves the new color
// Ready at full size while production stays on the old one, which
// --keep-warm keeps at full size afterwards.
func promoteOnce(ctx context.Context, b *testing.B, w *world, i int, active string) (call, time.Time) {
	b.Helper()
	w.settle(ctx, active)
	w.mustCLI(ctx, "deploy", app, "--image", image(i+warmup), "--pause", "--keep-warm", strconv.Itoa(replicas))
	w.settle(ctx, active)
	return timedSwitch(ctx, b, w, active, other(active), func() call { return w.cli(ctx, "promote", app) })
}

// rollbackOnce times `bluegreen rollback` of a completed release blue →
// green whose old color stayed warm (--keep-warm), back to blue.
func rollbackOnce(ctx context.Context, b *testing.B, w *world, i int) (call, time.Time) {
	b.Helper()
	w.settle(ctx, "blue")
	w.mustCLI(ctx, "deploy", app, "--image", image(i+warmup), "--yes", "--keep-warm", strconv.Itoa(replicas))
	w.settle(ctx, "green")
	return timedSwitch(ctx, b, w, "green", "blue", func() call { return w.cli(ctx, "rollback", app) })
}

// kubectlPatchOnce times `kubectl patch service` of the selector from active
// to the other color, as a user would type it, with both colors at full
// size. cache is kubectl's discovery cache (KUBECACHEDIR).
func kubectlPatchOnce(ctx context.Context, b *testing.B, w *world, kubectl, cache, active string) (call, time.Time) {
	b.Helper()
	w.settle(ctx, active)
	to := other(active)
	return timedSwitch(ctx, b, w, active, to, func() call {
		return w.run(ctx, kubectl, []string{"KUBECACHEDIR=" + cache}, "--kubeconfig", w.kubeconfig, "-n", w.ns,
			"patch", "service", app, "--type", "merge", "-p", fmt.Sprintf(`{"spec":{"selector":{"track":%q}}}`, to))
	})
}

// selectorPatchOnce times a bare client-go merge patch of the active
// Service's selector, on the benchmark's warm connection, until its
// EndpointSlices list only the other color: the floor. It returns that and
// when the API server answered the patch.
func selectorPatchOnce(ctx context.Context, b *testing.B, w *world, active string) (moved, answered time.Duration) {
	b.Helper()
	to := other(active)
	w.settle(ctx, active)
	wctx, stop := context.WithCancel(ctx)
	defer stop()
	ch, err := watchSwitch(wctx, w.kube, w.ns, app, podPrefix(active), podPrefix(to))
	if err != nil {
		b.Fatal(err)
	}
	patch := fmt.Appendf(nil, `{"spec":{"selector":{"track":%q}}}`, to)
	t0 := time.Now()
	if _, err := w.kube.CoreV1().Services(w.ns).Patch(ctx, app, types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
		b.Fatal(err)
	}
	answered = time.Since(t0)
	m := <-ch
	if m.err != nil {
		b.Fatal(m.err)
	}
	return m.at.Sub(t0), answered
}

// timedSwitch makes one call while watching the active Service's
// EndpointSlices, and returns the call and the moment they listed only the
// to color's pods. It fails the benchmark on any functional error.
func timedSwitch(ctx context.Context, b *testing.B, w *world, from, to string, do func() call) (call, time.Time) {
	b.Helper()
	wctx, stop := context.WithCancel(ctx)
	defer stop()
	ch, err := watchSwitch(wctx, w.kube, w.ns, app, podPrefix(from), podPrefix(to))
	if err != nil {
		b.Fatal(err)
	}
	c := do()
	if c.code != 0 {
		b.Fatalf("%s", c)
	}
	m := <-ch
	if m.err != nil {
		b.Fatalf("%v\n%s", m.err, c)
	}
	if got := w.activeColor(ctx); got != to {
		b.Fatalf("after the call the active Service selects %s, want %s\n%s", got, to, c)
	}
	return c, m.at
}

// slowest keeps the CLI call that took longest to move traffic, with its
// output stamped, for the log.
type slowest struct {
	call  call
	moved time.Duration
}

func (s *slowest) keep(c call, movedAt time.Time) {
	if d := movedAt.Sub(c.t0); d > s.moved {
		s.call, s.moved = c, d
	}
}

// firstCall times a GET through a client with a new connection, as each
// CLI process makes its first call.
func firstCall(ctx context.Context, config *rest.Config, ns string) (time.Duration, error) {
	cfg := rest.CopyConfig(config)
	// A proxy func makes client-go build a new transport instead of reusing
	// its cached one; there is no proxy in the environment of the test bed.
	cfg.Proxy = http.ProxyFromEnvironment
	t0 := time.Now()
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return 0, err
	}
	_, err = cs.CoreV1().Services(ns).Get(ctx, app, metav1.GetOptions{})
	d := time.Since(t0)
	if hc := cs.CoreV1().RESTClient().(*rest.RESTClient).Client; hc != nil {
		hc.CloseIdleConnections()
	}
	return d, err
}

// benchCosts times the pieces a CLI call is made of, to explain where the
// time of a promote or rollback goes.
func benchCosts(ctx context.Context, b *testing.B, w *world, kubectl string, runs int, rep *report) {
	w.install(ctx, replicas, 0)
	w.mustCLI(ctx, "deploy", app, "--image", image(0), "--yes", "--keep-warm", strconv.Itoa(replicas))
	w.settle(ctx, "green")

	var version, kversion, status, get, dial, event, save, record, appendRec sample
	// Process start is cheap to repeat and noisy: at least 100 runs, in
	// turn with kubectl's, after one of each to page the binaries in.
	for i := -1; i < max(runs, 100); i++ {
		v := w.mustCLI(ctx, "version")
		k := w.run(ctx, kubectl, nil, "version", "--client")
		if k.code != 0 {
			b.Fatalf("%s", k)
		}
		if i >= 0 {
			version, kversion = append(version, v.exit), append(kversion, k.exit)
		}
	}
	for range runs {
		status = append(status, w.mustCLI(ctx, "status", app).exit)
	}
	for range runs {
		t0 := time.Now()
		if _, err := w.kube.CoreV1().Services(w.ns).Get(ctx, app, metav1.GetOptions{}); err != nil {
			b.Fatal(err)
		}
		get = append(get, time.Since(t0))
	}
	for range runs {
		d, err := firstCall(ctx, w.config, w.ns)
		if err != nil {
			b.Fatal(err)
		}
		dial = append(dial, d)
	}
	for range runs {
		t0 := time.Now()
		if err := kube.Event(ctx, w.kube, w.ns, "service/"+app, "BlueGreenStep", "bench: one Event as a step records it", "Normal"); err != nil {
			b.Fatal(err)
		}
		event = append(event, time.Since(t0))
	}

	// A record write as the engine makes it: the real run, read back from
	// the cluster, saved as a run of its own (its first save creates the
	// object; the timed ones update its status), and to a local bbolt
	// journal as migrations keep theirs.
	records := w.runs()
	last, err := records.List(ctx, journal.Filter{App: app, Limit: 1})
	if err != nil || len(last) != 1 {
		b.Fatalf("read the run back from the cluster: %v (%d runs)", err, len(last))
	}
	cp := *last[0]
	cp.ID += "-cost"
	if err := records.Save(ctx, &cp); err != nil {
		b.Fatal(err)
	}
	for range runs {
		t0 := time.Now()
		if err := records.Save(ctx, &cp); err != nil {
			b.Fatal(err)
		}
		record = append(record, time.Since(t0))
	}
	dst, err := journal.OpenBolt(filepath.Join(filepath.Dir(w.journal), "costs.db"))
	if err != nil {
		b.Fatal(err)
	}
	for range runs {
		t0 := time.Now()
		if err := dst.Save(ctx, last[0]); err != nil {
			b.Fatal(err)
		}
		save = append(save, time.Since(t0))
	}

	// An audit record as the CLI appends one per transition.
	log, err := audit.Open(filepath.Join(filepath.Dir(w.audit), "costs.jsonl"), redact.NewSecrets())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = log.Close() })
	sw := last[0].Step("switch")
	if sw == nil {
		b.Fatal("the release has no switch step")
	}
	after, err := json.Marshal(sw.Mutations)
	if err != nil {
		b.Fatal(err)
	}
	for range runs {
		rec := audit.Record{Run: last[0].ID, Scope: "service", App: app, Namespace: w.ns, Action: "step-done switch",
			Object: "service/" + app, After: after, Result: "ok"}
		t0 := time.Now()
		if err := log.Append(ctx, rec); err != nil {
			b.Fatal(err)
		}
		appendRec = append(appendRec, time.Since(t0))
	}

	rep.addCost("`bluegreen version` (process start, no cluster)", version)
	rep.addCost("`kubectl version --client` (process start, no cluster)", kversion)
	rep.addCost("`bluegreen status` (start, connect, the app's run records and a few API reads)", status)
	rep.addCost("one API round trip (GET a Service, client-go)", get)
	rep.addCost("first API call of a new client (TCP and TLS handshake, GET)", dial)
	rep.addCost("one Kubernetes Event (create)", event)
	rep.addCost("one run record write in the cluster (BlueGreenRun status update, service scope)", record)
	rep.addCost("one journal write (bbolt open, put, fsync, close; the local store the baseline used)", save)
	rep.addCost("one audit append (lock, write, fsync)", appendRec)
	reportSwitch(b, version)
}
