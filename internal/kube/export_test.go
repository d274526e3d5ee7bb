package kube

import (
	"net/http"
	"time"
)

// SetIdleCheck sets how often a watched wait looks again when nothing
// changed, and returns the func that restores it.
func SetIdleCheck(d time.Duration) func() {
	old := idleCheck
	idleCheck = d
	return func() { idleCheck = old }
}

// FirstConn is the transport wrapper that makes requests sent before the
// first connection share it (a new one for each call).
func FirstConn() func(http.RoundTripper) http.RoundTripper { return newFirstConn().Wrap }
