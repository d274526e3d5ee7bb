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
// cluster, against the floor of a bare selector patch, BENCH_RUNS times each
// (default 30), and prints the results. Run it once: -benchtime 1x.
func BenchmarkSwitch(b *testing.B) {
	ctx := b.Context()
	runs := benchRuns(b)
	load := loadAvg()
	cluster := testbed.StartT(b, testbed.Options{Nodes: nodes})
	bin := buildCLI(b)
	rep := newReport(runs)
	// With BENCH_BASELINE=<git ref>, promote and rollback also run that
	// build, interleaved run by run with this one, for a same-run
	// comparison.
	contenders := []contender{{bin: bin}}
	if ref := os.Getenv("BENCH_BASELINE"); ref != "" {
		contenders = append(contenders, contender{label: ref, bin: buildCLIAt(b, ref)})
	}
	worlds := func(name string) []*world {
		var out []*world
		for i, c := range contenders {
			out = append(out, newWorld(ctx, b, cluster, c.bin, fmt.Sprintf("%s-%d", name, i)))
		}
		return out
	}
	b.Run("selector-patch", func(b *testing.B) {
		benchSelectorPatch(ctx, b, newWorld(ctx, b, cluster, bin, "patch"), runs, rep)
	})
	b.Run("promote", func(b *testing.B) {
		benchPromote(ctx, b, worlds("promote"), contenders, runs, rep)
	})
	b.Run("rollback", func(b *testing.B) {
		benchRollback(ctx, b, worlds("rollback"), contenders, runs, rep)
	})
	b.Run("auto-rollback", func(b *testing.B) {
		benchAutoRollback(ctx, b, newWorld(ctx, b, cluster, bin, "autorollback"), runs, rep)
	})
	b.Run("costs", func(b *testing.B) {
		benchCosts(ctx, b, newWorld(ctx, b, cluster, bin, "costs"), runs, rep)
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

// benchSelectorPatch times a bare merge patch of the active Service's
// selector until its EndpointSlices list only the other color: the floor.
// Both colors run full size; the patch alternates blue → green → blue.
func benchSelectorPatch(ctx context.Context, b *testing.B, w *world, runs int, rep *report) {
	w.install(ctx, replicas, replicas)
	var movedAt, patched sample
	active := "blue"
	for i := -warmup; i < runs; i++ {
		to := other(active)
		w.settle(ctx, active)
		wctx, stop := context.WithCancel(ctx)
		ch, err := watchSwitch(wctx, w.kube, w.ns, app, podPrefix(active), podPrefix(to))
		if err != nil {
			stop()
			b.Fatal(err)
		}
		patch := fmt.Appendf(nil, `{"spec":{"selector":{"track":%q}}}`, to)
		t0 := time.Now()
		if _, err := w.kube.CoreV1().Services(w.ns).Patch(ctx, app, types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
			stop()
			b.Fatal(err)
		}
		tp := time.Since(t0)
		m := <-ch
		stop()
		if m.err != nil {
			b.Fatal(m.err)
		}
		if i >= 0 {
			movedAt = append(movedAt, m.at.Sub(t0))
			patched = append(patched, tp)
		}
		active = to
	}
	rep.add("selector patch → EndpointSlices list only the new color (floor)", movedAt)
	rep.add("selector patch → API server answered the patch", patched)
	reportSwitch(b, movedAt)
}

// benchPromote times `bluegreen promote` of a paused release, alternating
// blue → green → blue in one namespace per contender; run i of every
// contender goes before run i+1 of any. Every run starts the same way: the
// new color was released with --pause and is Ready at full size,
// production is on the old color at full size (--keep-warm keeps it there
// afterwards).
func benchPromote(ctx context.Context, b *testing.B, ws []*world, cs []contender, runs int, rep *report) {
	for _, w := range ws {
		w.install(ctx, replicas, 0)
	}
	ph := make([]phases, len(ws))
	var slow slowest
	active := "blue"
	for i := -warmup; i < runs; i++ {
		to := other(active)
		for j, w := range ws {
			w.settle(ctx, active)
			w.mustCLI(ctx, "deploy", app, "--image", image(i+warmup), "--pause", "--keep-warm", strconv.Itoa(replicas))
			w.settle(ctx, active)
			c, movedAt := timedSwitch(ctx, b, w, "promote", active, to)
			if i >= 0 {
				ph[j].add(b, c, movedAt, []string{"Run"}, []string{"→", "switch"}, []string{"✓", "switch"})
				if j == 0 {
					slow.keep(c, movedAt)
				}
			}
		}
		active = to
	}
	for j, c := range cs {
		rep.add("promote: call → EndpointSlices list only the new color"+c.suffix(), ph[j].moved)
		rep.add("promote: call → CLI exit"+c.suffix(), ph[j].exit)
	}
	rep.compare("promote: call → EndpointSlices list only the new color", cs, ph, func(p phases) sample { return p.moved })
	rep.compare("promote: call → CLI exit", cs, ph, func(p phases) sample { return p.exit })
	rep.phases["promote"] = &ph[0]
	rep.slow["promote"] = slow
	reportSwitch(b, ph[0].moved)
}

// timedSwitch runs `bluegreen VERB app` while watching the active Service's
// EndpointSlices, and returns the call and the moment they listed only the
// to color's pods. It fails the benchmark on any functional error.
func timedSwitch(ctx context.Context, b *testing.B, w *world, verb, from, to string) (call, time.Time) {
	b.Helper()
	wctx, stop := context.WithCancel(ctx)
	defer stop()
	ch, err := watchSwitch(wctx, w.kube, w.ns, app, podPrefix(from), podPrefix(to))
	if err != nil {
		b.Fatal(err)
	}
	c := w.cli(ctx, verb, app)
	if c.code != 0 {
		b.Fatalf("bluegreen %s: %s", verb, c)
	}
	m := <-ch
	if m.err != nil {
		b.Fatalf("%v\n%s: %s", m.err, verb, c)
	}
	if got := w.activeColor(ctx); got != to {
		b.Fatalf("after %s the active Service selects %s, want %s\n%s", verb, got, to, c)
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

// benchRollback times `bluegreen rollback` of a completed release whose old
// color stayed warm: every run releases blue → green with --yes and
// --keep-warm, then rolls back to blue; contenders take turns run by run.
func benchRollback(ctx context.Context, b *testing.B, ws []*world, cs []contender, runs int, rep *report) {
	for _, w := range ws {
		w.install(ctx, replicas, 0)
	}
	ph := make([]phases, len(ws))
	var slow slowest
	for i := -warmup; i < runs; i++ {
		for j, w := range ws {
			w.settle(ctx, "blue")
			w.mustCLI(ctx, "deploy", app, "--image", image(i+warmup), "--yes", "--keep-warm", strconv.Itoa(replicas))
			w.settle(ctx, "green")
			c, movedAt := timedSwitch(ctx, b, w, "rollback", "green", "blue")
			if i >= 0 {
				ph[j].add(b, c, movedAt, []string{"Rolling", "back:"}, []string{"↶", "switch", "undoing"}, []string{"↶", "switch", "undone"})
				if j == 0 {
					slow.keep(c, movedAt)
				}
			}
		}
	}
	for j, c := range cs {
		rep.add("rollback: call → EndpointSlices list only the old color"+c.suffix(), ph[j].moved)
		rep.add("rollback: call → CLI exit"+c.suffix(), ph[j].exit)
	}
	rep.compare("rollback: call → EndpointSlices list only the old color", cs, ph, func(p phases) sample { return p.moved })
	rep.compare("rollback: call → CLI exit", cs, ph, func(p phases) sample { return p.exit })
	rep.phases["rollback"] = &ph[0]
	rep.slow["rollback"] = slow
	reportSwitch(b, ph[0].moved)
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
func benchCosts(ctx context.Context, b *testing.B, w *world, runs int, rep *report) {
	w.install(ctx, replicas, 0)
	w.mustCLI(ctx, "deploy", app, "--image", image(0), "--yes", "--keep-warm", strconv.Itoa(replicas))
	w.settle(ctx, "green")

	var version, status, get, dial, event, save, record, appendRec sample
	for range runs {
		version = append(version, w.mustCLI(ctx, "version").exit)
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
	rep.addCost("`bluegreen status` (start, connect, journal read, a few API reads)", status)
	rep.addCost("one API round trip (GET a Service, client-go)", get)
	rep.addCost("first API call of a new client (TCP and TLS handshake, GET)", dial)
	rep.addCost("one Kubernetes Event (create)", event)
	rep.addCost("one run record write in the cluster (BlueGreenRun status update, service scope)", record)
	rep.addCost("one journal write (bbolt open, put, fsync, close; the local store the baseline used)", save)
	rep.addCost("one audit append (lock, write, fsync)", appendRec)
	reportSwitch(b, version)
}
