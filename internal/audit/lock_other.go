//go:build !unix

package audit

import "os"

// lockFile is a no-op where flock is not available; O_APPEND with a single
// write still keeps lines whole on local file systems.
func lockFile(*os.File) (unlock func(), err error) { return func() {}, nil }
