//go:build !unix

package testbed

import (
	"context"
	"errors"
	"runtime"
)

// errUnsupported reports that the test bed needs a Unix system.
var errUnsupported = errors.New("the test bed runs on Linux and macOS only, not " + runtime.GOOS)

// supported reports whether clusters can run on this platform.
func supported() error { return errUnsupported }

// lockFile fails: clusters cannot run here.
func lockFile(context.Context, string) (func(), error) { return nil, errUnsupported }

// alive reports false: clusters cannot run here.
func alive(int) bool { return false }

// kill fails: clusters cannot run here.
func kill(int) error { return errUnsupported }

// processesUnder finds nothing: clusters cannot run here.
func processesUnder(string) ([]int, bool) { return nil, false }
