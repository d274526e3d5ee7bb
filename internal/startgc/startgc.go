// Package startgc holds the garbage collector off while the program's
// packages initialize.
package startgc

import (
	"os"
	"runtime/debug"
)

// userGOGC is whether the user set GOGC: then it is left alone.
var userGOGC = os.Getenv("GOGC") != ""

func init() { hold() }

func hold() {
	if !userGOGC {
		debug.SetGCPercent(-1)
	}
}

// Done turns the collector back on at the default.
func Done() {
	if !userGOGC {
		debug.SetGCPercent(100)
	}
}
