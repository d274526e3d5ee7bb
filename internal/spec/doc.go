// Package spec holds the building blocks that every spec section shares,
// whichever package parses it: durations written as "30s", strict decoding
// that names the unknown field, and DNS name checks.
package spec
