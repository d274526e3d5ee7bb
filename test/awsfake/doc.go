// Package awsfake is an in-memory fake of the small slice of AWS that
// bluegreen uses, for tests only: EC2 volumes, snapshots, tags, security
// groups and subnets; Route 53 record sets; EKS clusters and add-ons; IAM
// OpenID Connect providers; Elastic Load Balancing v2 load balancers,
// target groups and target health; and SNS topics and the messages
// published to them.
//
// The fake speaks the real AWS wire protocols — the query protocol of EC2,
// IAM, ELBv2 and SNS (told apart by the form's Version parameter), the Route 53
// REST-XML protocol and the EKS REST-JSON protocol — so tests drive it with
// the real aws-sdk-go-v2 clients pointed at it through BaseEndpoint
// (Server.AWSConfig). It implements AWS's documented semantics for the
// supported operations (state transitions, error codes and HTTP statuses,
// atomic change batches) rather than echoing requests back; an operation it
// does not implement fails with the error code InvalidAction.
//
// Asynchronous transitions (volume creation, attaching, detaching,
// snapshot completion, Route 53 change propagation) are driven by an
// injectable clock and configurable delays, so tests can be deterministic.
// Test hooks reproduce the failures a hand-off must survive: HoldAttachment
// makes a detach hang as when a node never unmounts, and ForcedDetaches
// reports whether the code under test forced one.
//
// Resources the tool only reads (clusters, add-ons, OIDC providers, subnets,
// security groups, load balancers) are seeded with the Add… methods. The
// command awsfake in cmd/awsfake serves the fake as its own process, seeded
// from a JSON file, for demos.
//
// It must never be used to talk to, or stand in for, real AWS outside tests.
package awsfake
