package kube

import (
	"fmt"
	"net/http"
	"sync"
)

// Fence cuts a run off from the systems it acts on once the run has lost
// its lock. A cancelled context stops the run's own code, but not work that
// deliberately runs without cancellation (a rollback, a journal write, an
// Event) nor a request already being built: the fence sits in the transport
// of every client the run uses, Kubernetes and AWS alike, so that after Trip
// not one more request leaves the process. The Lease itself talks through
// a client outside the fence.
//
// The zero Fence is open. A nil *Fence is an open fence that never trips.
type Fence struct {
	mu  sync.RWMutex
	err error
}

// Trip closes the fence for good: every later request fails with an error
// wrapping cause. The first cause wins.
func (f *Fence) Trip(cause error) {
	if f == nil || cause == nil {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err == nil {
		f.err = cause
	}
}

// Err is nil while the fence is open, and the cause it was tripped with
// after.
func (f *Fence) Err() error {
	if f == nil {
		return nil
	}
	f.mu.RLock()
	defer f.mu.RUnlock()
	return f.err
}

// Wrap returns rt behind the fence; it fits rest.Config.WrapTransport.
func (f *Fence) Wrap(rt http.RoundTripper) http.RoundTripper {
	if f == nil {
		return rt
	}
	return fencedTransport{f: f, next: rt}
}

type fencedTransport struct {
	f    *Fence
	next http.RoundTripper
}

func (t fencedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if err := t.f.Err(); err != nil {
		if req.Body != nil {
			_ = req.Body.Close()
		}
		return nil, fmt.Errorf("%s %s not sent: %w", req.Method, req.URL.Path, err)
	}
	return t.next.RoundTrip(req)
}
