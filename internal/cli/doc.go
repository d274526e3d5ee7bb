// Package cli is the bluegreen command line: one file per verb, each turning
// flags (and an optional spec file) into options, validating them, and
// running them through the planner and the engine. Only this package prints
// errors, each with a hint that names the flag or command that fixes it.
package cli
