package bench

import (
	"context"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"k8s.io/client-go/util/flowcontrol"

	"github.com/bluegreen/bluegreen/internal/engine"
	"github.com/bluegreen/bluegreen/internal/journal"
)

// The hand-off benchmark attributes every API call to the step that made
// it: the action wrappers below put the step's meter in the context the
// engine hands the action, and client-go and the AWS SDK carry that context
// down to the HTTP request (and to client-go's rate limiter), where the
// meter is read back. No call site of the tool is changed.

// meterKey is the context key of a step's meter.
type meterKey struct{}

// meter is what one step (or the planning read) cost the tool: requests per
// API, the time spent in their round trips, the time client-go's rate
// limiter held them back, and the time spent inside the action's funcs.
type meter struct {
	kubeA, kubeB, aws   atomic.Int64
	roundTrip, throttle atomic.Int64 // nanoseconds
	action              atomic.Int64 // nanoseconds
}

func meterOf(ctx context.Context) *meter {
	m, _ := ctx.Value(meterKey{}).(*meter)
	return m
}

func withMeter(ctx context.Context, m *meter) context.Context {
	return context.WithValue(ctx, meterKey{}, m)
}

// meters are the meters of one run, by step name; undos have their own.
type meters struct {
	mu   sync.Mutex
	do   map[string]*meter
	undo map[string]*meter
	// stray counts requests made outside any metered context; the
	// benchmark expects none.
	stray atomic.Int64
}

func newMeters() *meters {
	return &meters{do: map[string]*meter{}, undo: map[string]*meter{}}
}

// reset starts a new run.
func (reg *meters) reset() {
	reg.mu.Lock()
	defer reg.mu.Unlock()
	reg.do, reg.undo = map[string]*meter{}, map[string]*meter{}
	reg.stray.Store(0)
}

func (reg *meters) of(step string, undo bool) *meter {
	reg.mu.Lock()
	defer reg.mu.Unlock()
	set := reg.do
	if undo {
		set = reg.undo
	}
	m, ok := set[step]
	if !ok {
		m = &meter{}
		set[step] = m
	}
	return m
}

// metered returns the actions with every func timed and its context
// carrying the step's meter. A nil func stays nil: the engine treats a nil
// Undo differently from one that does nothing.
func metered(acts map[string]engine.Action, reg *meters) map[string]engine.Action {
	out := make(map[string]engine.Action, len(acts))
	for kind, a := range acts {
		out[kind] = engine.Action{
			Precondition: meterErr(reg, a.Precondition, false),
			Capture:      meterOut(reg, a.Capture),
			Do:           meterOut(reg, a.Do),
			Verify:       meterErr(reg, a.Verify, false),
			Undo:         meterErr(reg, a.Undo, true),
		}
	}
	return out
}

func meterErr(reg *meters, f func(context.Context, engine.Exec) error, undo bool) func(context.Context, engine.Exec) error {
	if f == nil {
		return nil
	}
	return func(ctx context.Context, x engine.Exec) error {
		m := reg.of(x.Step.Name, undo)
		t0 := time.Now()
		err := f(withMeter(ctx, m), x)
		m.action.Add(int64(time.Since(t0)))
		return err
	}
}

func meterOut(reg *meters, f func(context.Context, engine.Exec) (any, error)) func(context.Context, engine.Exec) (any, error) {
	if f == nil {
		return nil
	}
	return func(ctx context.Context, x engine.Exec) (any, error) {
		m := reg.of(x.Step.Name, false)
		t0 := time.Now()
		out, err := f(withMeter(ctx, m), x)
		m.action.Add(int64(time.Since(t0)))
		return out, err
	}
}

// apiServer says which API server a transport talks to.
type apiServer int

const (
	serverA apiServer = iota
	serverB
)

// countingTransport counts the requests to one cluster's API server and
// times their round trips (until the response headers arrive).
type countingTransport struct {
	rt     http.RoundTripper
	server apiServer
	reg    *meters
}

func (c countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	m := meterOf(req.Context())
	if m == nil {
		c.reg.stray.Add(1)
		return c.rt.RoundTrip(req)
	}
	if c.server == serverA {
		m.kubeA.Add(1)
	} else {
		m.kubeB.Add(1)
	}
	t0 := time.Now()
	resp, err := c.rt.RoundTrip(req)
	m.roundTrip.Add(int64(time.Since(t0)))
	return resp, err
}

// timedLimiter is client-go's token bucket, as the CLI's clients get it
// from their QPS and Burst, with the wait of each request added to its
// step's meter: the time the tool throttles itself.
type timedLimiter struct {
	flowcontrol.RateLimiter
}

func (l timedLimiter) Wait(ctx context.Context) error {
	t0 := time.Now()
	err := l.RateLimiter.Wait(ctx)
	if m := meterOf(ctx); m != nil {
		m.throttle.Add(int64(time.Since(t0)))
	}
	return err
}

// countingHTTP counts and times the AWS SDK's requests.
type countingHTTP struct {
	inner aws.HTTPClient
	reg   *meters
}

func (c countingHTTP) Do(req *http.Request) (*http.Response, error) {
	m := meterOf(req.Context())
	if m == nil {
		c.reg.stray.Add(1)
		return c.inner.Do(req)
	}
	m.aws.Add(1)
	t0 := time.Now()
	resp, err := c.inner.Do(req)
	m.roundTrip.Add(int64(time.Since(t0)))
	return resp, err
}

// timedStore times every journal write. The engine writes the whole run,
// under the lock its lanes share, at each step boundary. It writes through
// SaveJSON, as the engine does with the CLI's bbolt journal: the run is
// encoded once, by the engine.
type timedStore struct {
	*journal.Bolt
	// encodeOnly, for diagnosis, writes nothing: the file, its lock and the
	// fsync are left out, only the engine's encoding is left.
	encodeOnly bool
	mu         sync.Mutex
	saves      sample
}

func (s *timedStore) SaveJSON(ctx context.Context, id string, data []byte) error {
	t0 := time.Now()
	var err error
	if !s.encodeOnly {
		err = s.Bolt.SaveJSON(ctx, id, data)
	}
	d := time.Since(t0)
	s.mu.Lock()
	s.saves = append(s.saves, d)
	s.mu.Unlock()
	return err
}

// take returns the writes timed since the last take.
func (s *timedStore) take() sample {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.saves
	s.saves = nil
	return out
}
