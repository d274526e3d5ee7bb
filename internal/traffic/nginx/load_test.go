//go:build testbed

package nginx_test

import (
	"testing"
	"time"

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
	load := gatewaybed.StartLoad(t, []string{p.gws[0].Address(), p.gws[1].Address()}, p.site.ProdHost, "/pay", 1000)
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
	results := load.Stop()

	// Then no request failed, and every request sent a second after the
	// last switch was answered by its color.
	sum := gatewaybed.Summarize(results)
	t.Logf("%d requests: %v, %d failed; latency p50 %s, p99 %s", sum.Total, sum.ByColor, sum.Failed, sum.P50, sum.P99)
	if sum.Failed > 0 {
		t.Fatalf("%d of %d requests failed during the switches, e.g. %q", sum.Failed, sum.Total, sum.FirstFailures)
	}
	if sum.ByColor["blue"] == 0 || sum.ByColor["green"] == 0 {
		t.Fatalf("responses by color %v: want both colors served in turn", sum.ByColor)
	}
	for _, r := range results {
		if r.At.After(settled.Add(time.Second)) && r.Color != "blue" {
			t.Fatalf("a request sent %s after the last switch (to blue) was answered by %q", r.At.Sub(settled), r.Color)
		}
	}
}
