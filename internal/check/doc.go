// Package check owns release gates: the checks that must pass before a
// blue-green release moves on (preview checks before promotion, and the watch
// after promotion). It defines the Check interface, the HTTP, Smoke and
// Webhook implementations, the CheckFunc adapter for checks written elsewhere
// (e.g. a Kubernetes pods-ready check), the Spec file format with Build, and
// RunAll to run a list of checks in order.
//
// A check's Run returns Passed=false with a Detail for a failing gate, and an
// error only when the result is meaningless (bad configuration discovered at
// run time, a command that cannot be started, or the caller's context being
// cancelled).
//
// # Defaults from the environment
//
// DefaultsFromEnv reads the variables the existing shell scripts use:
//
//   - HEALTH_CHECK_RETRIES (default 10): attempts an HTTP check makes.
//   - HEALTH_CHECK_INTERVAL (default 5): wait between HTTP attempts. A bare
//     number is seconds ("5", "0.5"); a Go duration ("500ms") is accepted too.
//   - SMOKE_TEST_TIMEOUT (default 60, same syntax): the total time a Smoke
//     command may run. It does not bound HTTP attempts or Webhook requests:
//     each of those has its own timeout (default 30 s, AttemptTimeout), so
//     the worst case of an HTTP check is about
//     retries*timeout + (retries-1)*interval.
//
// Values set in a check's config override these defaults.
//
// # HTTP checks
//
// An HTTP check's URL is absolute, or a path such as /healthz appended to the
// path of Target.BaseURL (https://preview.example.com/app + /healthz gives
// https://preview.example.com/app/healthz); a path with an empty BaseURL is a
// Run error. Connection errors, timeouts, an unexpected status and a missing
// BodyContains all count as a failed attempt and are retried; the check
// fails after Retries attempts with the last attempt's status and up to 200
// bytes of its body, redacted and marked with the body's size when cut, in
// Detail.
//
// # Redirects
//
// HTTP and Webhook checks follow redirects by their Redirects field:
// same-host (the default) follows at most 10 redirects on the URL's scheme,
// host and port and fails the check on a redirect elsewhere, so a header
// such as X-Api-Key never reaches another host (net/http forwards custom
// headers on every redirect); none follows none; any follows all but drops
// the check's headers and Authorization, Cookie and Proxy-Authorization on
// hops that leave the original host.
//
// # Webhook checks
//
// A Webhook check POSTs {"app","namespace","color","image","baseURL","phase"}
// from the Target (Target.Phase names the release step, e.g. "preview"),
// plus "service" and "host" at namespace scope, and passes on any 2xx
// answer. It makes a single attempt.
//
// # Smoke commands
//
// A Smoke command runs with the current environment plus PREVIEW_URL (the
// Target's BaseURL, which is the production URL during the post-promotion
// watch), APP, COLOR, IMAGE, NAMESPACE, SERVICE and HOST_HEADER (the Host
// header that reaches the color through the gateway at PREVIEW_URL, at
// namespace scope; empty otherwise). It runs in its own process group;
// on timeout or cancellation the group gets SIGTERM and, after a short grace
// period, SIGKILL. When the command ends, any process still left in its group
// (e.g. a forgotten background job) is killed too. Detail holds the last 20
// lines of combined stdout and stderr, with secrets hidden: the values given
// with WithSecrets, the values of secret-looking environment variables, and
// URL secrets.
//
// # Secrets
//
// Webhook URLs, header values and secret-looking environment values are
// treated as secrets: they are added to the check's redact.Secrets and never
// appear in Detail, errors or logs.
package check
