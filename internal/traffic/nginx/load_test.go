//go:build testbed

package nginx_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/bluegreen/bluegreen/test/gatewaybed"
)

// Under 1,000 requests a second through both gateways, round-robin, with
// keep-alive, a switch, a rollback and ten back-to-back switches lose no
// request, and production ends on the color of the last switch.
func TestSwitchesUnderLoadLoseNothing(t *testing.T) {
	p := newPair(t)
	ctx := t.Context()
	if err := p.set.Apply(ctx, p.site, map[string]int{"blue": 100, "green": 0}, "green"); err != nil {
		t.Fatal(err)
	}
	var targets []vegeta.Target
	for _, g := range p.gws {
		targets = append(targets, vegeta.Target{Method: http.MethodGet, URL: "http://" + g.Address() + "/pay",
			Header: http.Header{"Host": []string{p.site.ProdHost}}})
	}
	attacker := vegeta.NewAttacker(vegeta.KeepAlive(true), vegeta.Timeout(10*time.Second), vegeta.Connections(64))
	stop := make(chan struct{})
	var (
		mu      sync.Mutex
		results []*vegeta.Result
	)
	done := make(chan struct{})
	go func() {
		defer close(done)
		rate := vegeta.Rate{Freq: 1000, Per: time.Second}
		for res := range attacker.Attack(vegeta.NewStaticTargeter(targets...), rate, 0, "switches") {
			mu.Lock()
			results = append(results, res)
			mu.Unlock()
			select {
			case <-stop:
				attacker.Stop()
			default:
			}
		}
	}()

	pause := func() { time.Sleep(1500 * time.Millisecond) }
	to := func(color string) {
		t.Helper()
		other := map[string]string{"blue": "green", "green": "blue"}[color]
		if err := p.set.Apply(ctx, p.site, map[string]int{color: 100, other: 0}, other); err != nil {
			t.Errorf("switch to %s under load: %v", color, err)
		}
	}
	pause()
	to("green") // (a) a switch
	pause()
	to("blue") // (b) a rollback
	pause()
	for i := range 10 { // (c) ten back-to-back switches
		to([]string{"green", "blue"}[i%2])
	}
	settled := time.Now()
	time.Sleep(2 * time.Second)
	close(stop)
	<-done

	// Then no request failed, and every request sent a second after the
	// last switch was answered by its color.
	mu.Lock()
	defer mu.Unlock()
	var failed []string
	colors := map[string]int{}
	var lateOther int
	var latencies []time.Duration
	for _, r := range results {
		if r.Error != "" || r.Code != http.StatusOK {
			if len(failed) < 5 {
				failed = append(failed, r.Error+" "+http.StatusText(int(r.Code)))
			}
			colors["failed"]++
			continue
		}
		var a gatewaybed.Answer
		if err := json.Unmarshal(r.Body, &a); err != nil {
			t.Fatalf("response body %q: %v", r.Body, err)
		}
		colors[a.Color]++
		if r.Timestamp.After(settled.Add(time.Second)) && a.Color != "blue" {
			lateOther++
		}
		latencies = append(latencies, r.Latency)
	}
	slices.Sort(latencies)
	t.Logf("%d requests: %v; latency p50 %s, p99 %s", len(results), colors, latencies[len(latencies)/2], latencies[len(latencies)*99/100])
	if colors["failed"] > 0 {
		t.Fatalf("%d of %d requests failed during the switches, e.g. %q", colors["failed"], len(results), failed)
	}
	if colors["blue"] == 0 || colors["green"] == 0 {
		t.Fatalf("responses by color %v: want both colors served in turn", colors)
	}
	if lateOther > 0 {
		t.Fatalf("%d requests sent a second after the last switch (to blue) were answered by green", lateOther)
	}
}
