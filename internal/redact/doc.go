// Package redact owns hiding secrets in anything bluegreen prints, logs or
// persists: URLs (userinfo, query values and webhook-style secret paths),
// environment variable lists, and free text such as command output and error
// messages.
//
// Rules, in short:
//
//   - URL keeps the scheme, host and the non-secret leading path segments.
//     Userinfo becomes "***@", every query value becomes "***", a fragment
//     becomes "#***". For well-known webhook hosts (Slack, Discord, Microsoft
//     Teams) everything after the fixed prefix is hidden; for any other URL the
//     path is cut at the first segment containing a run of 16 or more
//     characters from [A-Za-z0-9_-] (a "token-like" segment) and replaced by
//     "***". This also applies to a single-segment path: a lone token-like
//     segment is hidden too, because the safe default wins over readability.
//   - WebhookURL is URL for a URL known to be a webhook: nothing after the
//     first path segment is kept (a lone segment is hidden), whatever the
//     host, e.g. https://chat.example.com/hooks/***.
//   - Env hides the value of every KEY=VALUE whose key contains TOKEN, SECRET,
//     PASSWORD, PASSWD, KEY, CREDENTIAL or WEBHOOK (case-insensitive), and
//     URL-redacts any other value that looks like a URL.
//   - Text URL-redacts every absolute URL in free text and hides the value of
//     secret-looking query parameters (token, key, apikey, sig, password,
//     X-Amz-Signature, …) after "?" or "&" even without a scheme, e.g. in
//     /healthz?token=….
//   - Secrets collects known secret values and replaces each occurrence in a
//     string with "***", then URL-redacts any URL embedded in the text. A URL
//     added as a secret also hides its password, query values and the path
//     after the first segment wherever they appear on their own. Values
//     shorter than MinSecretLen and common non-secret words ("true", "false",
//     ...) are ignored so that redaction does not shred ordinary output.
package redact
