//go:build testbed

package fleet

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/dynamic"

	"github.com/bluegreen/bluegreen/deploy"
	"github.com/bluegreen/bluegreen/test/servicebed"
	"github.com/bluegreen/bluegreen/test/testbed"
)

const (
	v1 = "registry.example.com/app:1.0.0"
	v2 = "registry.example.com/app:2.0.0"
)

var (
	buildOnce sync.Once
	bin       string
	buildErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if bin != "" {
		_ = os.RemoveAll(filepath.Dir(bin))
	}
	os.Exit(code)
}

// binary builds bluegreen once for the package's tests and benchmarks.
func binary(tb testing.TB) string {
	tb.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "bluegreen-fleet-")
		if err != nil {
			buildErr = err
			return
		}
		bin = filepath.Join(dir, "bluegreen")
		var out bytes.Buffer
		cmd := exec.Command("go", "build", "-o", bin, "github.com/bluegreen/bluegreen/cmd/bluegreen")
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			buildErr = fmt.Errorf("build bluegreen: %w\n%s", err, out.String())
		}
	})
	if buildErr != nil {
		tb.Fatal(buildErr)
	}
	return bin
}

func freePort(tb testing.TB) int {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// result is one fleet's figures.
type result struct {
	n                      int
	idle, peak             Proc
	cpu                    time.Duration
	idleRequests, requests int
	declared, previewReady [2]time.Duration // p50, p99
	all                    time.Duration
}

// release runs a fleet of n through one mass image update and returns
// its figures; it fails tb unless every release switched exactly once.
func release(tb testing.TB, n int, args ...string) result {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Minute)
	defer cancel()
	// Two Services an app: the default /24 of Service IPs holds 127 apps.
	c := testbed.StartT(tb, testbed.Options{Name: "fleet", Nodes: Nodes(n), ServiceCIDR: "10.96.0.0/16"})
	dyn, err := dynamic.NewForConfig(c.Config)
	if err != nil {
		tb.Fatal(err)
	}
	for _, file := range []string{"crds/bluegreen.dev_bluegreenruns.yaml", "crds/bluegreen.dev_bluegreenreleases.yaml"} {
		data, err := deploy.CRDs.ReadFile(file)
		if err != nil {
			tb.Fatal(err)
		}
		if err := testbed.ApplyCRD(ctx, dyn, data); err != nil {
			tb.Fatal(err)
		}
	}
	f, err := Setup(ctx, c, n, v1)
	if err != nil {
		tb.Fatal(err)
	}
	ctl, err := StartController(binary(tb), c.Kubeconfig, tb.TempDir(), freePort(tb), args...)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := ctl.Stop(); err != nil {
			tb.Errorf("controller: %v", err)
		}
		if tb.Failed() {
			tb.Logf("controller log, last lines:\n%s", ctl.Log(60))
		}
	})
	if err := f.WaitSettled(ctx, v1); err != nil {
		tb.Fatal(err)
	}
	r := result{n: n}
	if r.idleRequests, err = ctl.Quiet(ctx, 5*time.Second); err != nil {
		tb.Fatal(err)
	}
	if r.idle, err = ctl.Proc(); err != nil {
		tb.Fatal(err)
	}
	set, err := f.Update(ctx, v2)
	if err != nil {
		tb.Fatal(err)
	}
	if err := f.WaitSettled(ctx, v2); err != nil {
		tb.Fatal(err)
	}
	runs, err := f.Runs(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	lat, err := Measure(runs, set, v2)
	if err != nil {
		tb.Fatal(err)
	}
	// Production really moved: every active Service selects green.
	for _, ns := range f.Namespaces {
		svcs, err := c.Client.CoreV1().Services(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			tb.Fatal(err)
		}
		for _, s := range svcs.Items {
			if !strings.HasSuffix(s.Name, "-preview") && s.Spec.Selector[servicebed.ColorLabel] != "green" {
				tb.Fatalf("service %s/%s selects %v after the release", ns, s.Name, s.Spec.Selector)
			}
		}
	}
	total, err := ctl.Quiet(ctx, 5*time.Second)
	if err != nil {
		tb.Fatal(err)
	}
	if r.peak, err = ctl.Proc(); err != nil {
		tb.Fatal(err)
	}
	r.cpu = r.peak.CPU - r.idle.CPU
	r.requests = total - r.idleRequests
	r.declared = [2]time.Duration{Percentile(lat.Declared, 0.5), Percentile(lat.Declared, 0.99)}
	r.previewReady = [2]time.Duration{Percentile(lat.PreviewReady, 0.5), Percentile(lat.PreviewReady, 0.99)}
	r.all = lat.Last.Sub(lat.First)
	return r
}

func (r result) String() string {
	mib := func(b int64) string { return fmt.Sprintf("%.0f MiB", float64(b)/(1<<20)) }
	ms := func(d time.Duration) string { return fmt.Sprintf("%.0f ms", float64(d)/float64(time.Millisecond)) }
	return fmt.Sprintf("| %d | %s | %s | %.1f s | %.1f | %s / %s | %s / %s | %.1f s |",
		r.n, mib(r.idle.RSS), mib(r.peak.PeakRSS), r.cpu.Seconds(), float64(r.requests)/float64(r.n),
		ms(r.previewReady[0]), ms(r.previewReady[1]), ms(r.declared[0]), ms(r.declared[1]), r.all.Seconds())
}

const header = "| releases | RSS idle | RSS peak | CPU (update) | API requests / release | preview ready → switched p50 / p99 | image set → switched p50 / p99 | all switched in |\n|---|---|---|---|---|---|---|---|"

// Twenty releases updated at once all switch, each exactly once, with the
// same code the benchmark drives to 1,000.
func TestTwentyReleasesAtOnce(t *testing.T) {
	r := release(t, 20)
	t.Logf("\n%s\n%s", header, r)
}

// Runs throttled hard by the controller's token bucket still renew their
// Leases: four runs renewing every 500 ms (a 3 s Lease) under a budget of
// 5 requests a second. When the renewals shared the bucket they came too
// late, the runs lost their Leases and stopped half-way.
func TestThrottledRunsKeepTheirLeases(t *testing.T) {
	release(t, 4, "--kube-api-qps", "5", "--kube-api-burst", "5", "--lease-duration", "3s")
}

// BenchmarkController releases fleets of BENCH_RELEASES (default
// 100,500,1000) apps, each on a test bed of its own, and prints a
// Markdown table for docs/benchmarks.md.
func BenchmarkController(b *testing.B) {
	sizes := os.Getenv("BENCH_RELEASES")
	if sizes == "" {
		sizes = "100,500,1000"
	}
	var rows []string
	for _, s := range strings.Split(sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			b.Fatalf("BENCH_RELEASES: %q is not a count", s)
		}
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			for range b.N {
				rows = append(rows, release(b, n).String())
			}
		})
	}
	fmt.Printf("\n%s\n%s\n", header, strings.Join(rows, "\n"))
}
