// Package audit owns bluegreen's append-only audit log: one JSON object per
// line recording who changed what in the cluster (switch, scale, rollback,
// ...), with the state before and after.
//
// Log appends each record with a single write(2) on a file opened with
// O_APPEND, under an exclusive flock(2) where available, followed by fsync, so
// records from concurrent goroutines and concurrent bluegreen processes never
// interleave and survive a crash once Append returns. The log's directory is
// created 0700 and the file 0600; it is opened with O_NOFOLLOW and refused
// when it is a symbolic link, another user's or open to other users.
//
// Every string field of a Record, and every string (and object key) inside
// Before and After, passes through redaction before it reaches the disk: the
// redact.Secrets given to Open hide known secret values, and URLs anywhere in
// the text lose their userinfo, query values and token-like path segments.
// Before and After are re-encoded compactly (object keys sorted) after
// redaction.
package audit
