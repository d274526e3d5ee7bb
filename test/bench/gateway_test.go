package bench

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bluegreen/bluegreen/internal/traffic/nginx"
	"github.com/bluegreen/bluegreen/test/gatewaybed"
)

// window is one timed move of production between colors under load.
type window struct {
	kind       string // switch, rollback, back-to-back
	start, end time.Time
	to         string
}

// rounds is how many times the run repeats its switch, rollback and ten
// back-to-back switches.
const rounds = 3

// BenchmarkGatewaySwitch is the namespace scope's zero-downtime proof: two
// real nginx gateways, vegeta sending BENCH_GATEWAY_RATE requests a second
// (default 1,000) through both, round robin, with keep-alive, while the
// nginx router (the code the switch step runs) moves production: (a) a
// switch, (b) a rollback, (c) ten back-to-back switches, three rounds, with
// 10 s steady stretches around them (over 100,000 requests in all). It prints, per phase, the requests sent, the
// non-2xx answers and connection errors, latency p50 and p99 against the
// steady state, and when the last answer from the old color was sent. Only
// failed requests fail it (a functional error), never a duration.
func BenchmarkGatewaySwitch(b *testing.B) {
	rate := 1000
	if v := os.Getenv("BENCH_GATEWAY_RATE"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			b.Fatalf("BENCH_GATEWAY_RATE=%q: want requests per second, e.g. 1000", v)
		}
		rate = n
	}
	ctx := b.Context()
	loadBefore := loadAvg()
	gws := []*gatewaybed.Nginx{gatewaybed.StartNginx(b, "gw-1"), gatewaybed.StartNginx(b, "gw-2")}
	blue, green := gatewaybed.StartBackend(b, "blue", "payment", "v1"), gatewaybed.StartBackend(b, "green", "payment", "v2")
	site := nginx.Site{Product: "payments", ProdHost: "myapp.com", PreprodHost: "preprod.myapp.com",
		Upstreams: map[string]nginx.Upstream{"blue": {Servers: []string{blue.Addr()}}, "green": {Servers: []string{green.Addr()}}}}
	set := &nginx.Set{Gateways: gatewaybed.Gateways(gws...), VerifyTimeout: 10 * time.Second}
	to := func(color string) error {
		other := map[string]string{"blue": "green", "green": "blue"}[color]
		return set.Apply(ctx, site, map[string]int{color: 100, other: 0}, other)
	}
	if err := to("blue"); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	load := gatewaybed.StartLoad(b, []string{gws[0].Address(), gws[1].Address()}, site.ProdHost, "/pay", rate)
	var windows []window
	move := func(kind, color string) {
		w := window{kind: kind, to: color, start: time.Now()}
		if err := to(color); err != nil {
			b.Fatalf("%s to %s under load: %v", kind, color, err)
		}
		w.end = time.Now()
		windows = append(windows, w)
	}
	steady := 10 * time.Second
	for range rounds {
		time.Sleep(steady)
		move("switch", "green") // (a)
		time.Sleep(steady)
		move("rollback", "blue") // (b)
		time.Sleep(steady)
		for i := range 10 { // (c)
			move("back-to-back", []string{"green", "blue"}[i%2])
		}
	}
	time.Sleep(steady)
	results := load.Stop()
	b.StopTimer()

	rep := gatewayReport{rate: rate, results: results, windows: windows}
	rep.print(os.Stdout, gatewayMachine(loadBefore))
	b.ReportMetric(float64(len(results)), "requests")
	b.ReportMetric(float64(rep.failed()), "failed")
	if n := rep.failed(); n > 0 {
		b.Fatalf("%d of %d requests failed during the switches", n, len(results))
	}
	for _, r := range results {
		if r.At.After(windows[len(windows)-1].end.Add(time.Second)) && r.Color != "blue" {
			b.Fatalf("a request sent a second after the last switch (to blue) was answered by %q", r.Color)
		}
	}
}

// gatewayReport turns the load's results into the phases' figures.
type gatewayReport struct {
	rate    int
	results []gatewaybed.Result
	windows []window
}

func (g gatewayReport) failed() int {
	n := 0
	for _, r := range g.results {
		if r.Failed() {
			n++
		}
	}
	return n
}

// phase is the requests sent in one kind of stretch of the run.
type phase struct {
	name                  string
	total, non2xx, errors int
	p50, p99              time.Duration
	// allNew is, per move, when (counted from its call) the last request
	// answered by the old color was sent; returned is when the call
	// returned (every gateway switched and verified).
	allNew, returned []time.Duration
}

func newPhase(name string, rs []gatewaybed.Result) phase {
	p := phase{name: name, total: len(rs)}
	var lat []time.Duration
	for _, r := range rs {
		switch {
		case r.Error != "" && r.Code == 0:
			p.errors++
		case r.Failed():
			p.non2xx++
		default:
			lat = append(lat, r.Latency)
		}
	}
	if len(lat) > 0 {
		slices.Sort(lat)
		p.p50, p.p99 = lat[len(lat)/2], lat[min(len(lat)-1, len(lat)*99/100)]
	}
	return p
}

// phases splits the results: steady is every request sent more than a
// second away from any move; a switch or a rollback is the requests sent
// from its call until a second after it returned; the ten back-to-back
// switches count as one move, from the first call until a second after
// the last returned.
func (g gatewayReport) phases() []phase {
	near := func(t time.Time) bool {
		for _, w := range g.windows {
			if !t.Before(w.start.Add(-time.Second)) && !t.After(w.end.Add(time.Second)) {
				return true
			}
		}
		return false
	}
	var steady []gatewaybed.Result
	for _, r := range g.results {
		if !near(r.At) {
			steady = append(steady, r)
		}
	}
	during := func(from, to time.Time) []gatewaybed.Result {
		var in []gatewaybed.Result
		for _, r := range g.results {
			if !r.At.Before(from) && r.At.Before(to) {
				in = append(in, r)
			}
		}
		return in
	}
	// lastOld is when, counted from since, the last answer from another
	// color than w moved to was sent, among the requests sent from w's
	// call until a second after it returned.
	lastOld := func(w window, since time.Time) time.Duration {
		last := time.Duration(0)
		for _, r := range during(w.start, w.end.Add(time.Second)) {
			if r.Color != "" && r.Color != w.to && r.At.Sub(since) > last {
				last = r.At.Sub(since)
			}
		}
		return last
	}
	out := []phase{newPhase("steady (over a second from any move)", steady)}
	for _, kind := range []string{"switch", "rollback"} {
		var rs []gatewaybed.Result
		var allNew, returned []time.Duration
		for _, w := range g.windows {
			if w.kind == kind {
				rs = append(rs, during(w.start, w.end.Add(time.Second))...)
				allNew, returned = append(allNew, lastOld(w, w.start)), append(returned, w.end.Sub(w.start))
			}
		}
		p := newPhase(fmt.Sprintf("%s, %d× (call + 1 s)", kind, len(allNew)), rs)
		p.allNew, p.returned = allNew, returned
		out = append(out, p)
	}
	var rs []gatewaybed.Result
	var allNew, returned []time.Duration
	for i := 0; i < len(g.windows); i++ {
		if g.windows[i].kind != "back-to-back" {
			continue
		}
		first := g.windows[i]
		for i+1 < len(g.windows) && g.windows[i+1].kind == "back-to-back" {
			i++
		}
		last := g.windows[i]
		rs = append(rs, during(first.start, last.end.Add(time.Second))...)
		allNew, returned = append(allNew, lastOld(last, first.start)), append(returned, last.end.Sub(first.start))
	}
	p := newPhase(fmt.Sprintf("10 back-to-back switches, %d× (first call to last + 1 s)", len(allNew)), rs)
	p.allNew, p.returned = allNew, returned
	return append(out, p, newPhase("whole run", g.results))
}

// span is "median (max)" of ds in ms, or empty.
func span(ds []time.Duration) string {
	if len(ds) == 0 {
		return ""
	}
	s := sample(ds).summary()
	return fmt.Sprintf("%.0f (%.0f)", ms(s.median), ms(s.max))
}

// print writes the results as Markdown, ready for docs/benchmarks.md.
func (g gatewayReport) print(w io.Writer, machine string) {
	ph := g.phases()
	fmt.Fprintf(w, "\n## Gateway switch under load (%s)\n\n%s\n\n", time.Now().UTC().Format("2006-01-02"), machine)
	fmt.Fprintf(w, "vegeta at %d requests/s through both gateways, round robin, keep-alive. Latency in ms; "+
		"\"old color last sent\" is when, counted from the call, the last request answered by the old color was sent, "+
		"and \"call returned\" when every gateway was switched and verified, in ms, median (max) over the moves.\n\n", g.rate)
	fmt.Fprintln(w, "| phase | requests | non-2xx | connection errors | p50 | p99 | p99 / steady p99 | old color last sent | call returned |")
	fmt.Fprintln(w, "|---|--:|--:|--:|--:|--:|--:|--:|--:|")
	steady := ph[0].p99
	for _, p := range ph {
		fmt.Fprintf(w, "| %s | %d | %d | %d | %.2f | %.2f | %.2f | %s | %s |\n", p.name, p.total, p.non2xx, p.errors,
			ms(p.p50), ms(p.p99), float64(p.p99)/float64(max(steady, 1)), span(p.allNew), span(p.returned))
	}
	fmt.Fprintln(w)
}

// gatewayMachine names the CPU, memory, Go and nginx versions and the load.
func gatewayMachine(loadBefore string) string {
	version := "nginx version unknown"
	if bin, err := gatewaybed.NginxBin(); err == nil {
		if out, err := exec.Command(bin, "-v").CombinedOutput(); err == nil {
			version = strings.TrimSpace(strings.TrimPrefix(string(out), "nginx version: "))
		}
	}
	return fmt.Sprintf("Machine: %d CPUs (%s), %s memory, %s %s/%s; %s, 2 gateways with 2 workers each, on loopback with the backends and the load generator. "+
		"Load average (1, 5, 15 min) before: %s; after: %s.",
		runtime.NumCPU(), cpuModel(), memTotal(), runtime.Version(), runtime.GOOS, runtime.GOARCH, version, loadBefore, loadAvg())
}
