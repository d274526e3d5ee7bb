package bench

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"
)

// BenchmarkHandoff measures the stateful hand-off of the cluster scope
// (`bluegreen migrate`): moving StatefulSets' EBS volumes from cluster A to
// cluster B, one lane of steps per StatefulSet, the lanes side by side.
//
// It runs three passes, each in a migration world of its own (package
// migrationbed: two test-bed clusters, the AWS wire fake, an EBS CSI driver
// simulator per cluster):
//
//   - simulated-delays: the simulator attaches 1 s and detaches 1 s after
//     the pod appears or goes, and EC2 keeps a detaching volume in-use for
//     2 s: compressed waits, so the test bed's own CPU weighs heavily;
//   - aws-like-delays: 5 s to attach, 5 s to detach, 5 s detaching in EC2
//     and 15 s for a snapshot to complete, the order of what EBS shows;
//   - zero-delays: every simulated delay is 0, so what is left is the
//     tool's own time plus the test bed's (API server, controllers, kwok).
//
// In each pass it hands off shops of 1, 10 and 50 StatefulSets (one volume
// each), with Parallelism equal to the size, so every lane runs at once. A
// run plans the migration (migrate.Observe, plan.MigrationPlan), keeps only
// the hand-off lanes (no DNS shift, no checklist), and runs them in-process
// with engine.Engine, as `bluegreen migrate apply` does: the CLI's kube
// clients (QPS 50, Burst 100), a bbolt journal, the real clock. It then
// rolls the run back with engine.Rollback, which is timed too, and waits
// until the shop runs in A again, so the next run starts as the first did.
//
// Every API call is attributed to the step that made it (a counting
// transport for each cluster, a timed client-go rate limiter, a counting
// HTTP client for AWS), and every journal write is timed.
//
// Run it alone with `go test ./test/bench -run '^$' -bench Handoff
// -benchtime 1x -timeout 30m`; BENCH_HANDOFF_RUNS=k runs every size k
// times instead of 10, 5 and 3. For diagnosis only, BENCH_HANDOFF_QPS,
// BENCH_HANDOFF_JOURNAL=encode-only and BENCH_HANDOFF_EVENTS=cli change
// the tool's side (see handoffDiag); the report says when they were set.
// docs/benchmarks.md has the results. Only functional errors fail it.
func BenchmarkHandoff(b *testing.B) {
	ctx := b.Context()
	override := handoffRunsOverride(b)
	diag := readHandoffDiag(b)
	rep := &handoffReport{loadBefore: loadAvg()}
	for _, p := range handoffPasses {
		b.Run(p.name, func(b *testing.B) {
			hw := startHandoffWorld(ctx, b, p.d, diag)
			if rep.kube == "" {
				rep.kube = kubeVersion()
				rep.setup, rep.qps, rep.burst = hw.setup(), hw.qps, hw.burst
			}
			pr := &passResult{name: p.name, d: p.d}
			rep.passes = append(rep.passes, pr)
			for i, sz := range handoffSizes {
				b.Run(fmt.Sprintf("n=%d", sz.n), func(b *testing.B) {
					runs := sz.runs
					if p.runs != nil {
						runs = p.runs[i]
					}
					if override > 0 {
						runs = override
					}
					pr.sizes = append(pr.sizes, benchHandoffSize(ctx, b, hw, sz.n, runs))
				})
			}
		})
	}
	rep.print(os.Stdout)
}

// handoffPasses are the worlds the benchmark runs in. runs, when set, is
// how many timed runs each size gets in that pass (else handoffSizes').
var handoffPasses = []struct {
	name string
	d    delays
	runs []int
}{
	// Compressed delays: the waits still dominate a single hand-off, but
	// the test bed's own CPU is a large part of a run of 50.
	{"simulated-delays", delays{attach: time.Second, detach: time.Second, ec2Detach: 2 * time.Second}, nil},
	// Delays of the order EBS shows: seconds to attach and to detach, and
	// a snapshot that is not instant (a first snapshot takes minutes;
	// 15 s keeps the pass short).
	{"aws-like-delays", delays{attach: 5 * time.Second, detach: 5 * time.Second, ec2Detach: 5 * time.Second, snapshot: 15 * time.Second}, []int{3, 2, 2}},
	{"zero-delays", delays{}, nil},
}

// handoffSizes are the shop sizes and how many timed runs each gets. A
// run of 50 takes two shop moves (forward and back) of tens of seconds.
var handoffSizes = []struct{ n, runs int }{{1, 10}, {10, 5}, {50, 3}}

// handoffWarmup is how many runs of the first size (1) go first and are
// not counted: they open the connections and fill the caches. The larger
// sizes then start warm.
const handoffWarmup = 1

// handoffRunsOverride reads BENCH_HANDOFF_RUNS: when set, every size runs
// that many times.
func handoffRunsOverride(b *testing.B) int {
	b.Helper()
	v := os.Getenv("BENCH_HANDOFF_RUNS")
	if v == "" {
		return 0
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		b.Fatalf("BENCH_HANDOFF_RUNS=%q: want a positive number of runs", v)
	}
	return n
}

// sizeResult is every timed run of one size in one pass.
type sizeResult struct {
	n, parallelism int
	runs           []handoffRun
}

// passResult is one world's results.
type passResult struct {
	name  string
	d     delays
	sizes []*sizeResult
}

// benchHandoffSize installs a shop of n StatefulSets in A and hands it
// off runs times (after the warm-up for n = 1).
func benchHandoffSize(ctx context.Context, b *testing.B, hw *handoffWorld, n, runs int) *sizeResult {
	shop, err := hw.w.InstallShop(ctx, fmt.Sprintf("shop-%d", n), n)
	if err != nil {
		b.Fatalf("install a shop of %d StatefulSets: %v", n, err)
	}
	res := &sizeResult{n: n, parallelism: n}
	warm := 0
	if n == 1 {
		warm = handoffWarmup
	}
	for i := -warm; i < runs; i++ {
		r := hw.handoff(ctx, b, shop)
		if r.stray > 0 {
			b.Logf("%d API calls outside any step: they are not in the per-step counts", r.stray)
		}
		if i >= 0 {
			res.runs = append(res.runs, r)
		}
	}
	walls := make(sample, 0, len(res.runs))
	for _, r := range res.runs {
		walls = append(walls, r.wall)
	}
	s := walls.summary()
	b.ReportMetric(float64(s.median.Nanoseconds()), "ns/op")
	b.ReportMetric(s.median.Seconds(), "median-wall-s")
	b.ReportMetric(s.p99.Seconds(), "p99-wall-s")
	return res
}
