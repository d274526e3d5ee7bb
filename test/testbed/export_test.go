package testbed

// Alive reports whether a process exists and is not a zombie, for tests.
var Alive = alive
