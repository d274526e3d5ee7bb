package startgc

import (
	"os"
	"runtime/debug"
	"testing"
)

// The collector is off from this package's init until Done, unless the
// user set GOGC: then both leave it alone.
func TestHoldUntilDone(t *testing.T) {
	t.Cleanup(func() {
		userGOGC = os.Getenv("GOGC") != ""
		debug.SetGCPercent(100)
	})
	tests := []struct {
		name           string
		userSet        bool
		held, released int
	}{
		{name: "GOGC unset", held: -1, released: 100},
		{name: "GOGC set by the user", userSet: true, held: 50, released: 50},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			userGOGC = tc.userSet
			debug.SetGCPercent(50) // as a user's GOGC=50 would
			hold()
			if got := percent(); got != tc.held {
				t.Fatalf("held: the collector is at %d%%, want %d", got, tc.held)
			}
			Done()
			if got := percent(); got != tc.released {
				t.Fatalf("after Done: the collector is at %d%%, want %d", got, tc.released)
			}
		})
	}
}

// percent is the collector's setting, read by setting it and back.
func percent() int {
	p := debug.SetGCPercent(0)
	debug.SetGCPercent(p)
	return p
}
