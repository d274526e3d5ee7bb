package bench

import (
	"bufio"
	"debug/buildinfo"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bluegreen/bluegreen/test/testbed"
)

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// sample is one measurement's durations, one per run.
type sample []time.Duration

type summary struct {
	n                          int
	median, p90, p99, min, max time.Duration
}

// summary sorts a copy; percentiles are nearest-rank, so with 30 runs the
// p99 is the slowest run.
func (s sample) summary() summary {
	if len(s) == 0 {
		return summary{}
	}
	a := slices.Clone(s)
	slices.Sort(a)
	n := len(a)
	rank := func(p float64) time.Duration { return a[int(math.Ceil(p*float64(n)))-1] }
	med := a[n/2]
	if n%2 == 0 {
		med = (a[n/2-1] + a[n/2]) / 2
	}
	return summary{n: n, median: med, p90: rank(0.90), p99: rank(0.99), min: a[0], max: a[n-1]}
}

// phases are the moments of one CLI scenario's runs, counted from the call.
type phases struct {
	started   sample // the run is read and running: its first line printed
	switching sample // the switch step (or its undo) starts
	moved     sample // the EndpointSlices list only the target color
	switched  sample // the CLI saw it: the switch step (or its undo) is done
	exit      sample // the process exited
	missing   int    // runs whose output lacked a phase line
}

// add records one run. The phase lines are found by their first fields; a
// missing line (the CLI's output changed) is counted, not fatal.
func (p *phases) add(b *testing.B, c call, movedAt time.Time, started, switching, switched []string) {
	b.Helper()
	p.moved = append(p.moved, movedAt.Sub(c.t0))
	p.exit = append(p.exit, c.exit)
	s, ok1 := c.find(started...)
	sw, ok2 := c.find(switching...)
	sd, ok3 := c.find(switched...)
	if !ok1 || !ok2 || !ok3 {
		if p.missing == 0 {
			b.Logf("phase lines missing from the CLI output; the phase table will be partial:\n%s", c)
		}
		p.missing++
		return
	}
	p.started = append(p.started, s)
	p.switching = append(p.switching, sw)
	p.switched = append(p.switched, sd)
}

// afterSwitch is, run by run, how long the process ran on after the
// EndpointSlices had moved.
func (p *phases) afterSwitch() sample {
	var out sample
	for i := range p.moved {
		out = append(out, p.exit[i]-p.moved[i])
	}
	return out
}

// intervals are the per-run gaps between consecutive phases.
func (p *phases) intervals() []sample {
	gap := func(to, from sample) sample {
		var out sample
		for i := range to {
			out = append(out, to[i]-from[i])
		}
		return out
	}
	if len(p.started) != len(p.moved) {
		return nil
	}
	return []sample{p.started, gap(p.switching, p.started), gap(p.moved, p.switching), gap(p.switched, p.moved), gap(p.exit, p.switched)}
}

// slowest is the index of the run that took longest to move traffic.
func (p *phases) slowest() int {
	i := 0
	for j, d := range p.moved {
		if d > p.moved[i] {
			i = j
		}
	}
	return i
}

var intervalNames = []string{
	"call → run read and running (process start, kubeconfig, the Lease and the cluster's identity side by side, the run the Lease names, the Lease taken, the run read again)",
	"→ switch step starts (the steps before and the record write before the switch; rollback: undo of scale-down-old)",
	"→ EndpointSlices list only the target color (Deployment and Service read side by side, pods list, selector patch, endpoint controller)",
	"→ the CLI sees it (preview patch, Service read, its 50 ms endpoint poll)",
	"→ process exit (record writes, Events, the steps after, lease release)",
}

type row struct {
	name string
	s    sample
}

// report collects every scenario's results for the final table.
type report struct {
	runs   int
	rows   []row
	costs  []row
	phases map[string]*phases
	slow   map[string]slowest
	// versus compares this build with a baseline, row by row.
	versus []comparison
	// ratios compare measurements of this build taken in the same rounds.
	ratios []ratio
}

// ratio is one measurement over another, both taken in the same rounds.
type ratio struct {
	name     string
	num, den sample
}

func (r *report) ratio(name string, num, den sample) {
	r.ratios = append(r.ratios, ratio{name, num, den})
}

// comparison is one measurement of this build and of a baseline, taken
// in the same run.
type comparison struct {
	name, baseline string
	this, base     sample
}

// compare records name for this build (ph[0]) against each baseline.
func (r *report) compare(name string, cs []contender, ph []phases, pick func(phases) sample) {
	for j := 1; j < len(cs); j++ {
		r.versus = append(r.versus, comparison{name: name, baseline: cs[j].label, this: pick(ph[0]), base: pick(ph[j])})
	}
}

func newReport(runs int) *report {
	return &report{runs: runs, phases: map[string]*phases{}, slow: map[string]slowest{}}
}

func (r *report) add(name string, s sample)     { r.rows = append(r.rows, row{name, s}) }
func (r *report) addCost(name string, s sample) { r.costs = append(r.costs, row{name, s}) }

func table(w io.Writer, rows []row) {
	fmt.Fprintln(w, "| measurement | runs | median | p90 | p99 | min | max |")
	fmt.Fprintln(w, "|---|--:|--:|--:|--:|--:|--:|")
	for _, r := range rows {
		s := r.s.summary()
		fmt.Fprintf(w, "| %s | %d | %.1f | %.1f | %.1f | %.1f | %.1f |\n", r.name, s.n, ms(s.median), ms(s.p90), ms(s.p99), ms(s.min), ms(s.max))
	}
}

// print writes the results as Markdown, ready for docs/benchmarks.md.
func (r *report) print(w io.Writer, machine string) {
	fmt.Fprintf(w, "\n## Results (%s)\n\n%s\n\nTimes in ms; %d timed runs per scenario after %d warm-up run; percentiles are nearest-rank.\n\n",
		time.Now().UTC().Format("2006-01-02"), machine, r.runs, warmup)
	table(w, r.rows)
	if len(r.ratios) > 0 {
		fmt.Fprint(w, "\nRatios of medians, and of each side's p99 to its own median, from the same rounds:\n\n")
		fmt.Fprintln(w, "| ratio | of medians | p99 / median, left | p99 / median, right |")
		fmt.Fprintln(w, "|---|--:|--:|--:|")
		for _, q := range r.ratios {
			n, d := q.num.summary(), q.den.summary()
			fmt.Fprintf(w, "| %s | %.2f | %.2f | %.2f |\n", q.name, float64(n.median)/float64(max(d.median, 1)),
				float64(n.p99)/float64(max(n.median, 1)), float64(d.p99)/float64(max(d.median, 1)))
		}
	}
	promote, rollback := r.phases["promote"], r.phases["rollback"]
	if promote != nil && rollback != nil {
		pi, ri := promote.intervals(), rollback.intervals()
		if pi != nil && ri != nil {
			ps, rs := promote.slowest(), rollback.slowest()
			fmt.Fprintf(w, "\nWhere the time goes: the median of each run's gap between consecutive phases, and the gaps of the\nslowest run (of %d), in ms.\n\n", len(promote.moved))
			fmt.Fprintln(w, "| phase | promote median | promote slowest | rollback median | rollback slowest |")
			fmt.Fprintln(w, "|---|--:|--:|--:|--:|")
			for i, name := range intervalNames {
				fmt.Fprintf(w, "| %s | %.1f | %.1f | %.1f | %.1f |\n", name,
					ms(pi[i].summary().median), ms(pi[i][ps]), ms(ri[i].summary().median), ms(ri[i][rs]))
			}
		}
	}
	if len(r.versus) > 0 {
		fmt.Fprint(w, "\nThis build against the baseline, measured in the same run, run by run in turn (ms; ratio = this / baseline):\n\n")
		fmt.Fprintln(w, "| measurement | baseline | this median | baseline median | ratio | this p99 | baseline p99 |")
		fmt.Fprintln(w, "|---|---|--:|--:|--:|--:|--:|")
		for _, c := range r.versus {
			t, o := c.this.summary(), c.base.summary()
			fmt.Fprintf(w, "| %s | %s | %.1f | %.1f | %.2f | %.1f | %.1f |\n", c.name, c.baseline, ms(t.median), ms(o.median),
				float64(t.median)/float64(max(o.median, 1)), ms(t.p99), ms(o.p99))
		}
	}
	if len(r.costs) > 0 {
		fmt.Fprint(w, "\nWhat the pieces cost on their own, in ms:\n\n")
		table(w, r.costs)
	}
	for _, name := range []string{"promote", "rollback"} {
		if s, ok := r.slow[name]; ok {
			fmt.Fprintf(w, "\nThe slowest %s: EndpointSlices moved at %.1f ms; the CLI's output, each line stamped on arrival:\n\n```\n%s```\n",
				name, ms(s.moved), s.call.stamped())
		}
	}
	fmt.Fprintln(w)
}

// describeMachine names the CPU, memory, Go and Kubernetes versions.
// loadBefore is the load average from before the benchmark started its
// cluster.
func describeMachine(c *testbed.Cluster, loadBefore string) string {
	kube := kubeVersion()
	if v, err := c.Client.Discovery().ServerVersion(); kube == "" && err == nil {
		kube = v.GitVersion
	}
	return fmt.Sprintf("Machine: %d CPUs (%s), %s memory, %s %s/%s; test bed Kubernetes %s with kwok %s, %d fake nodes. "+
		"Load average (1, 5, 15 min) before: %s; after: %s.",
		runtime.NumCPU(), cpuModel(), memTotal(), runtime.Version(), runtime.GOOS, runtime.GOARCH, kube, testbed.KwokVersion, nodes,
		loadBefore, loadAvg())
}

// kubeVersion reads the k8s.io/kubernetes version the test bed's API server
// was built from (the server itself reports a development version).
func kubeVersion() string {
	dir, err := testbed.BinDir()
	if err != nil {
		return ""
	}
	info, err := buildinfo.ReadFile(filepath.Join(dir, "kube-apiserver"))
	if err != nil {
		return ""
	}
	for _, d := range info.Deps {
		if d.Path == "k8s.io/kubernetes" {
			return d.Version
		}
	}
	return ""
}

// procField returns the value of the first "key: value" line of a /proc file.
func procField(path, key string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// loadAvg is the 1, 5 and 15 minute load averages: other work on the
// machine shows in the results.
func loadAvg() string {
	data, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(data)); err == nil && len(f) >= 3 {
		return strings.Join(f[:3], " ")
	}
	return "unknown"
}

func cpuModel() string {
	if m := procField("/proc/cpuinfo", "model name"); m != "" {
		return m
	}
	return "CPU model unknown"
}

func memTotal() string {
	f := strings.Fields(procField("/proc/meminfo", "MemTotal"))
	if len(f) == 2 && f[1] == "kB" {
		if kb, err := strconv.ParseFloat(f[0], 64); err == nil {
			return fmt.Sprintf("%.1f GiB", kb/(1<<20))
		}
	}
	return "unknown"
}
