// Package migrate owns the cluster scope around the volume hand-off: what
// is read from both clusters before planning, the warm standby of
// stateless workloads in B, the weighted-DNS cutover with its drift guard
// and checks, internal CNAMEs, and the verification checklist.
package migrate
