package kube

import (
	"net/http"
	"net/http/httptrace"
	"sync"
)

// firstConn makes the requests a process sends side by side before it has
// a connection share the first one's. Go's HTTP transport dials a
// connection of its own for every request that finds none idle, so the
// Lease and the cluster's identity, read side by side at a command's
// start, did two TCP and TLS handshakes (the handshake costs CPU on both
// sides: the first request took 7.9 ms instead of 5), after which HTTP/2
// carried everything on one of the two. Held back until the first request
// has its connection (or has failed to get one), the others go out on it
// at once.
type firstConn struct {
	leader sync.Once     // elects the request that dials
	open   sync.Once     // closes ready
	ready  chan struct{} // closed when the others may go
}

func newFirstConn() *firstConn { return &firstConn{ready: make(chan struct{})} }

func (f *firstConn) release() { f.open.Do(func() { close(f.ready) }) }

// Wrap is a rest.Config transport wrapper.
func (f *firstConn) Wrap(rt http.RoundTripper) http.RoundTripper {
	return firstConnTransport{f: f, next: rt}
}

type firstConnTransport struct {
	f    *firstConn
	next http.RoundTripper
}

func (t firstConnTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	f := t.f
	select {
	case <-f.ready:
		return t.next.RoundTrip(r)
	default:
	}
	first := false
	f.leader.Do(func() { first = true })
	if !first {
		select {
		case <-f.ready:
		case <-r.Context().Done():
			if r.Body != nil {
				_ = r.Body.Close()
			}
			return nil, r.Context().Err()
		}
		return t.next.RoundTrip(r)
	}
	defer f.release() // no connection to wait for: the others dial their own
	trace := &httptrace.ClientTrace{GotConn: func(httptrace.GotConnInfo) { f.release() }}
	return t.next.RoundTrip(r.WithContext(httptrace.WithClientTrace(r.Context(), trace)))
}

// WrappedRoundTripper lets client-go see through the wrapper.
func (t firstConnTransport) WrappedRoundTripper() http.RoundTripper { return t.next }
