package kube

import "time"

// SetIdleCheck sets how often a watched wait looks again when nothing
// changed, and returns the func that restores it.
func SetIdleCheck(d time.Duration) func() {
	old := idleCheck
	idleCheck = d
	return func() { idleCheck = old }
}
