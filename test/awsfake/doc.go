// Package awsfake is an in-memory fake of the small slice of AWS that
// bluegreen uses (EC2 volumes and snapshots, Route 53 record sets), for
// tests only.
//
// The fake speaks the real AWS wire protocols — the EC2 query protocol and
// the Route 53 REST-XML protocol — so tests drive it with the real
// aws-sdk-go-v2 clients pointed at it through BaseEndpoint. It implements
// AWS's documented semantics for the supported operations (state
// transitions, error codes, atomic change batches) rather than echoing
// requests back. Asynchronous transitions (detaching, snapshot completion,
// Route 53 change propagation) are driven by an injectable clock and
// configurable delays, so tests can be deterministic.
//
// It must never be used to talk to, or stand in for, real AWS outside tests.
package awsfake
