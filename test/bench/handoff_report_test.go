package bench

import (
	"fmt"
	"io"
	"math"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/bluegreen/bluegreen/internal/journal"
	"github.com/bluegreen/bluegreen/test/testbed"
)

// handoffReport collects both passes for the tables printed at the end.
type handoffReport struct {
	loadBefore string
	kube       string
	setup      string
	// qps and burst are the kube clients' rate limit, per cluster.
	qps    float64
	burst  int
	passes []*passResult
}

func secs(d time.Duration) float64 { return d.Seconds() }

// quantiles are the median and the nearest-rank p99 of xs, as
// sample.summary computes them for durations.
func quantiles(xs []float64) (med, p99 float64) {
	n := len(xs)
	if n == 0 {
		return math.NaN(), math.NaN()
	}
	a := slices.Clone(xs)
	slices.Sort(a)
	med = a[n/2]
	if n%2 == 0 {
		med = (a[n/2-1] + a[n/2]) / 2
	}
	return med, a[int(math.Ceil(0.99*float64(n)))-1]
}

// laneSpan is one lane's first step start and last step end, from the
// journal.
type laneSpan struct{ start, end time.Time }

func lanesOf(r *journal.Run) map[string]laneSpan {
	out := map[string]laneSpan{}
	for _, s := range r.Steps {
		l, ok := out[s.Lane]
		if !ok || s.StartedAt.Before(l.start) {
			l.start = s.StartedAt
		}
		if s.FinishedAt.After(l.end) {
			l.end = s.FinishedAt
		}
		out[s.Lane] = l
	}
	return out
}

// runLanes are one run's lane figures.
type runLanes struct {
	slowest, sum, spread time.Duration
	// engine is each lane's span minus the time spent in its actions: the
	// engine's own time (journal writes, waiting for the lock the lanes
	// share) per lane.
	engine []time.Duration
	// calls and throttled are per lane: every API call of its steps, and
	// the time client-go's rate limiter held them.
	callsA, callsB, callsAWS []float64
	throttled                []time.Duration
	action                   []time.Duration
}

func (r handoffRun) lanes() runLanes {
	var out runLanes
	spans := lanesOf(r.run)
	var first, last time.Time
	for _, l := range spans {
		d := l.end.Sub(l.start)
		out.sum += d
		out.slowest = max(out.slowest, d)
		if first.IsZero() || l.start.Before(first) {
			first = l.start
		}
		if l.start.After(last) {
			last = l.start
		}
	}
	out.spread = last.Sub(first)
	per := map[string]*meterSnap{}
	for _, s := range r.run.Steps {
		m := r.steps[s.Name]
		p, ok := per[s.Lane]
		if !ok {
			p = &meterSnap{}
			per[s.Lane] = p
		}
		p.kubeA += m.kubeA
		p.kubeB += m.kubeB
		p.aws += m.aws
		p.throttle += m.throttle
		p.action += m.action
	}
	for lane, p := range per {
		l := spans[lane]
		out.engine = append(out.engine, l.end.Sub(l.start)-p.action)
		out.callsA = append(out.callsA, float64(p.kubeA))
		out.callsB = append(out.callsB, float64(p.kubeB))
		out.callsAWS = append(out.callsAWS, float64(p.aws))
		out.throttled = append(out.throttled, p.throttle)
		out.action = append(out.action, p.action)
	}
	return out
}

// print writes every table as Markdown, ready for docs/benchmarks.md.
func (rep *handoffReport) print(w io.Writer) {
	fmt.Fprintf(w, "\n## Hand-off results (%s)\n\n%s\n\nThe tool: %s.\n\n", time.Now().UTC().Format("2006-01-02"), rep.machine(), rep.setup)
	for _, p := range rep.passes {
		fmt.Fprintf(w, "Pass %s: %s.\n", p.name, p.d)
	}
	fmt.Fprint(w, "\nWall time of the hand-off block (every lane), in s; percentiles are nearest-rank. "+
		"A lane is one StatefulSet's steps, from its first step's start to its last step's end in the journal. "+
		"\"single hand-off\" is the median wall time of the same pass with 1 StatefulSet.\n\n")
	fmt.Fprintln(w, "| pass | StatefulSets | parallelism | runs | wall median | wall p99 | slowest lane median | sum of lanes median | wall ÷ slowest lane (median) | wall ÷ single hand-off | rollback median | rollback p99 |")
	fmt.Fprintln(w, "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
	for _, p := range rep.passes {
		var single time.Duration
		for _, sz := range p.sizes {
			if sz.n == 1 {
				single = wallsOf(sz).summary().median
			}
		}
		for _, sz := range p.sizes {
			var slowest, sums, rollbacks sample
			var ratios []float64
			for _, r := range sz.runs {
				l := r.lanes()
				slowest = append(slowest, l.slowest)
				sums = append(sums, l.sum)
				rollbacks = append(rollbacks, r.rollback)
				ratios = append(ratios, float64(r.wall)/float64(l.slowest))
			}
			wall := wallsOf(sz).summary()
			ratio, _ := quantiles(ratios)
			vsSingle := "–"
			if single > 0 {
				vsSingle = fmt.Sprintf("%.2f", float64(wall.median)/float64(single))
			}
			rb := rollbacks.summary()
			fmt.Fprintf(w, "| %s | %d | %d | %d | %.2f | %.2f | %.2f | %.2f | %.2f | %s | %.2f | %.2f |\n",
				p.name, sz.n, sz.parallelism, len(sz.runs), secs(wall.median), secs(wall.p99),
				secs(slowest.summary().median), secs(sums.summary().median), ratio, vsSingle, secs(rb.median), secs(rb.p99))
		}
	}
	rep.printEngine(w)
	rep.printCPU(w)
	rep.printEvents(w)
	for _, p := range rep.passes {
		for _, sz := range p.sizes {
			printSteps(w, p.name, sz)
		}
	}
	fmt.Fprintln(w)
}

func wallsOf(sz *sizeResult) sample {
	out := make(sample, 0, len(sz.runs))
	for _, r := range sz.runs {
		out = append(out, r.wall)
	}
	return out
}

// printEngine writes where a lane's time goes besides its actions, and
// what the journal costs.
func (rep *handoffReport) printEngine(w io.Writer) {
	fmt.Fprint(w, "\nThe engine and the journal, medians over all lanes (or runs) of a size. "+
		"Lane start spread: last lane's start minus the first's. Engine time per lane: its span minus the time in its actions "+
		"(journal writes and waiting for the lock the lanes share). API calls per lane: A / B / AWS. "+
		"Throttled: time client-go's rate limiter held the lane's requests. "+
		"Journal writes: every write of the forward run (the whole run, fsynced, under the engine's lock). "+
		"Calls per run: every request of Observe and of the forward run to A / B (with the CLI's Events when recorded); the QPS floor is the least time client-go's limiter "+
		"lets the busier cluster's requests of Observe and the run take together: (calls − burst) ÷ QPS.\n\n")
	fmt.Fprintln(w, "| pass | StatefulSets | lane start spread (s) | actions per lane (s) | engine time per lane (ms) | API calls per lane | throttled per lane (s) | journal writes per run | journal write median / p99 (ms) | journal writes in all (s) | run size (KB) | Observe + plan (s) | Observe API calls (A / B / AWS) | calls per run (A / B) | QPS floor (s) |")
	fmt.Fprintln(w, "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
	for _, p := range rep.passes {
		for _, sz := range p.sizes {
			var spread, engine, throttled, action, saves, saveTotal, plans sample
			var callsA, callsB, callsAWS, writes, size, planA, planB, planAWS, runA, runB, floor []float64
			for _, r := range sz.runs {
				l := r.lanes()
				spread = append(spread, l.spread)
				engine = append(engine, l.engine...)
				throttled = append(throttled, l.throttled...)
				action = append(action, l.action...)
				callsA = append(callsA, l.callsA...)
				callsB = append(callsB, l.callsB...)
				callsAWS = append(callsAWS, l.callsAWS...)
				saves = append(saves, r.saves...)
				var total time.Duration
				for _, s := range r.saves {
					total += s
				}
				saveTotal = append(saveTotal, total)
				writes = append(writes, float64(len(r.saves)))
				size = append(size, float64(r.runBytes)/1024)
				plans = append(plans, r.plan)
				planA = append(planA, float64(r.planCost.kubeA))
				planB = append(planB, float64(r.planCost.kubeB))
				planAWS = append(planAWS, float64(r.planCost.aws))
				a, bc := r.planCost.kubeA+r.events.kubeA, r.planCost.kubeB
				for _, m := range r.steps {
					a += m.kubeA
					bc += m.kubeB
				}
				runA, runB = append(runA, float64(a)), append(runB, float64(bc))
				floor = append(floor, max(0, float64(max(a, bc))-float64(rep.burst))/rep.qps)
			}
			sv := saves.summary()
			med := func(xs []float64) float64 { m, _ := quantiles(xs); return m }
			fmt.Fprintf(w, "| %s | %d | %.2f | %.2f | %.0f | %.0f / %.0f / %.0f | %.2f | %.0f | %.1f / %.1f | %.2f | %.0f | %.2f | %.0f / %.0f / %.0f | %.0f / %.0f | %.1f |\n",
				p.name, sz.n, secs(spread.summary().median), secs(action.summary().median), ms(engine.summary().median),
				med(callsA), med(callsB), med(callsAWS), secs(throttled.summary().median),
				med(writes), ms(sv.median), ms(sv.p99), secs(saveTotal.summary().median), med(size),
				secs(plans.summary().median), med(planA), med(planB), med(planAWS), med(runA), med(runB), med(floor))
		}
	}
}

// printEvents writes what the CLI's Kubernetes Events cost, when the run
// recorded them.
func (rep *handoffReport) printEvents(w io.Writer) {
	header := false
	for _, p := range rep.passes {
		for _, sz := range p.sizes {
			var count []float64
			var drain, rtt, throttled sample
			for _, r := range sz.runs {
				count = append(count, float64(r.events.kubeA))
				drain = append(drain, r.eventDrain)
				rtt = append(rtt, r.events.roundTrip)
				throttled = append(throttled, r.events.throttle)
			}
			if m, _ := quantiles(count); !(m > 0) {
				continue
			}
			if !header {
				fmt.Fprint(w, "\nThe CLI's Kubernetes Events (one per finished step, on A, through A's client), medians per run.\n\n")
				fmt.Fprintln(w, "| pass | StatefulSets | Events | in API round trips (s) | throttled (s) | still being written after the run (s) |")
				fmt.Fprintln(w, "|---|--:|--:|--:|--:|--:|")
				header = true
			}
			m, _ := quantiles(count)
			fmt.Fprintf(w, "| %s | %d | %.0f | %.2f | %.2f | %.2f |\n", p.name, sz.n, m,
				secs(rtt.summary().median), secs(throttled.summary().median), secs(drain.summary().median))
		}
	}
}

// printSteps writes one size's cost per step kind: API calls, the step's
// time in the journal, and how much of it the action spent in API round
// trips and in client-go's rate limiter.
func printSteps(w io.Writer, pass string, sz *sizeResult) {
	if len(sz.runs) == 0 {
		return
	}
	type kindStats struct {
		a, b, aws                          []float64
		span, action, roundTrip, throttled sample
		undo                               sample
		undoCalls                          []float64
	}
	var order []string
	stats := map[string]*kindStats{}
	for _, r := range sz.runs {
		for _, s := range r.run.Steps {
			k := s.Name[strings.LastIndex(s.Name, "/")+1:]
			ks, ok := stats[k]
			if !ok {
				ks = &kindStats{}
				stats[k] = ks
				order = append(order, k)
			}
			m := r.steps[s.Name]
			ks.a = append(ks.a, float64(m.kubeA))
			ks.b = append(ks.b, float64(m.kubeB))
			ks.aws = append(ks.aws, float64(m.aws))
			ks.span = append(ks.span, s.FinishedAt.Sub(s.StartedAt))
			ks.action = append(ks.action, m.action)
			ks.roundTrip = append(ks.roundTrip, m.roundTrip)
			ks.throttled = append(ks.throttled, m.throttle)
			if u, ok := r.undos[s.Name]; ok {
				ks.undo = append(ks.undo, u.action)
				ks.undoCalls = append(ks.undoCalls, float64(u.kubeA+u.kubeB+u.aws))
			}
		}
	}
	what := fmt.Sprintf("%d StatefulSets", sz.n)
	if sz.n == 1 {
		what = "1 StatefulSet"
	}
	fmt.Fprintf(w, "\nPer step, pass %s, %s (%d steps of each kind): API calls as median / p99 (undo: all APIs), times in ms.\n\n",
		pass, what, len(stats[order[0]].span))
	fmt.Fprintln(w, "| step | A calls | B calls | AWS calls | step median | step p99 | in the action, median | in API round trips, median | throttled median | throttled p99 | undo median | undo p99 | undo API calls |")
	fmt.Fprintln(w, "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
	calls := func(xs []float64) string { m, p := quantiles(xs); return fmt.Sprintf("%.0f / %.0f", m, p) }
	for _, k := range order {
		ks := stats[k]
		sp, th := ks.span.summary(), ks.throttled.summary()
		undo := "– | – | –"
		if len(ks.undo) > 0 {
			u := ks.undo.summary()
			undo = fmt.Sprintf("%.1f | %.1f | %s", ms(u.median), ms(u.p99), calls(ks.undoCalls))
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f | %s |\n", k,
			calls(ks.a), calls(ks.b), calls(ks.aws), ms(sp.median), ms(sp.p99),
			ms(ks.action.summary().median), ms(ks.roundTrip.summary().median), ms(th.median), ms(th.p99), undo)
	}
}

// machine names the CPU, memory, Go and Kubernetes versions, and the load.
func (rep *handoffReport) machine() string {
	return fmt.Sprintf("Machine: %d CPUs (%s), %s memory, %s %s/%s; two test-bed clusters running Kubernetes %s with kwok %s, "+
		"%d fake nodes each. Load average (1, 5, 15 min) before: %s; after: %s.",
		runtime.NumCPU(), cpuModel(), memTotal(), runtime.Version(), runtime.GOOS, runtime.GOARCH, rep.kube, testbed.KwokVersion,
		testbed.DefaultNodes, rep.loadBefore, loadAvg())
}

// printCPU writes where the machine's CPU went during the forward runs:
// the test bed's control planes and nodes, and this process (the tool, the
// simulators, the AWS fake). "busy" is the CPU time of all of them over
// the wall time times the cores: near 100% the machine, not the tool's
// waits, sets the pace.
func (rep *handoffReport) printCPU(w io.Writer) {
	fmt.Fprintf(w, "\nCPU time during the forward run, median over the runs of a size, in s (both clusters together; from /proc). "+
		"busy: all of it ÷ (wall time × %d cores).\n\n", runtime.NumCPU())
	fmt.Fprintln(w, "| pass | StatefulSets | wall | "+strings.Join(cpuComponents, " | ")+" | all | busy |")
	fmt.Fprintln(w, "|---|--:|--:|"+strings.Repeat("--:|", len(cpuComponents)+2))
	for _, p := range rep.passes {
		for _, sz := range p.sizes {
			cols := make([]sample, len(cpuComponents))
			var all sample
			var busy []float64
			for _, r := range sz.runs {
				var total time.Duration
				for i, c := range cpuComponents {
					cols[i] = append(cols[i], r.cpu[c])
					total += r.cpu[c]
				}
				all = append(all, total)
				busy = append(busy, 100*float64(total)/(float64(r.wall)*float64(runtime.NumCPU())))
			}
			fmt.Fprintf(w, "| %s | %d | %.2f |", p.name, sz.n, secs(wallsOf(sz).summary().median))
			for _, c := range cols {
				fmt.Fprintf(w, " %.2f |", secs(c.summary().median))
			}
			b, _ := quantiles(busy)
			fmt.Fprintf(w, " %.2f | %.0f%% |\n", secs(all.summary().median), b)
		}
	}
}
