// Package plan compiles (observed state, desired release) into the ordered
// steps of a run. It is pure: no clients, no I/O. Every validation happens
// here, so bad input fails before the first write.
package plan
