package gatewaybed

import (
	"encoding/json"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// Load is a constant request rate through gateways, from vegeta: round
// robin over the gateways, with keep-alive, as a load balancer in front of
// them would send it.
type Load struct {
	attacker *vegeta.Attacker
	stop     chan struct{}
	done     chan struct{}
	mu       sync.Mutex
	results  []Result
}

// Result is one request's outcome.
type Result struct {
	At      time.Time // when it was sent
	Latency time.Duration
	Code    int
	Error   string
	Color   string // the color that answered (from the backend's body)
}

// Failed reports whether the request failed (an error or a non-2xx code).
func (r Result) Failed() bool { return r.Error != "" || r.Code < 200 || r.Code > 299 }

// StartLoad sends perSecond requests a second for path on host through
// addrs until Stop.
func StartLoad(t testing.TB, addrs []string, host, path string, perSecond int) *Load {
	t.Helper()
	l := NewLoad(addrs, host, path, perSecond)
	t.Cleanup(func() { l.Stop() })
	return l
}

// NewLoad is StartLoad for a program: the caller stops it.
func NewLoad(addrs []string, host, path string, perSecond int) *Load {
	var targets []vegeta.Target
	for _, a := range addrs {
		targets = append(targets, vegeta.Target{Method: http.MethodGet, URL: "http://" + a + path, Header: http.Header{"Host": []string{host}}})
	}
	l := &Load{attacker: vegeta.NewAttacker(vegeta.KeepAlive(true), vegeta.Timeout(10*time.Second), vegeta.Connections(64)),
		stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(l.done)
		rate := vegeta.Rate{Freq: perSecond, Per: time.Second}
		for res := range l.attacker.Attack(vegeta.NewStaticTargeter(targets...), rate, 0, "gateways") {
			r := Result{At: res.Timestamp, Latency: res.Latency, Code: int(res.Code), Error: res.Error}
			var a Answer
			if json.Unmarshal(res.Body, &a) == nil {
				r.Color = a.Color
			}
			l.mu.Lock()
			l.results = append(l.results, r)
			l.mu.Unlock()
			select {
			case <-l.stop:
				l.attacker.Stop()
			default:
			}
		}
	}()
	return l
}

// Stop ends the load (once) and returns every result, in sending order.
func (l *Load) Stop() []Result {
	l.mu.Lock()
	select {
	case <-l.stop:
	default:
		close(l.stop)
	}
	l.mu.Unlock()
	<-l.done
	l.mu.Lock()
	defer l.mu.Unlock()
	out := slices.Clone(l.results)
	slices.SortFunc(out, func(a, b Result) int { return a.At.Compare(b.At) })
	return out
}

// Summary counts results by outcome.
type Summary struct {
	Total, Failed int
	ByColor       map[string]int
	// FirstFailures are up to five failures, for messages.
	FirstFailures []string
	P50, P99      time.Duration
}

// Summarize counts results.
func Summarize(rs []Result) Summary {
	s := Summary{Total: len(rs), ByColor: map[string]int{}}
	var lat []time.Duration
	for _, r := range rs {
		if r.Failed() {
			s.Failed++
			if len(s.FirstFailures) < 5 {
				s.FirstFailures = append(s.FirstFailures, r.Error+" "+http.StatusText(r.Code))
			}
			continue
		}
		s.ByColor[r.Color]++
		lat = append(lat, r.Latency)
	}
	if len(lat) > 0 {
		slices.Sort(lat)
		s.P50, s.P99 = lat[len(lat)/2], lat[len(lat)*99/100]
	}
	return s
}

// Snapshot summarizes the results so far, without stopping the load.
func (l *Load) Snapshot() Summary {
	l.mu.Lock()
	rs := slices.Clone(l.results)
	l.mu.Unlock()
	return Summarize(rs)
}
