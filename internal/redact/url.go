package redact

import (
	"errors"
	"net/url"
	"regexp"
	"strings"
	"sync"
)

// Mask is the replacement text for every hidden value.
const Mask = "***"

// tokenRunLen is the length of a run of [A-Za-z0-9_-] from which a path
// segment, query key or bare query value is treated as a token.
const tokenRunLen = 16

// WebhookURL is URL for a URL known to be a webhook (its path is the secret):
// at most the first path segment is kept, e.g.
// https://chat.example.com/hooks/*** or https://h.example.com/services/***.
// A single-segment path is hidden entirely.
func WebhookURL(s string) string {
	return redactURL(s, true)
}

// URL returns s with its secrets hidden, for logs and error messages: the
// userinfo becomes "***@", every query value becomes "***", a fragment becomes
// "#***", and the path is cut at the first secret-looking segment (see the
// package documentation). A string that does not parse as a URL is replaced by
// Mask entirely. URLs without secrets come back unchanged except for query
// values.
func URL(s string) string {
	return redactURL(s, false)
}

// redactURL implements URL and, with webhook set, WebhookURL.
func redactURL(s string, webhook bool) string {
	u, err := url.Parse(s)
	if err != nil {
		return Mask
	}
	var b strings.Builder
	if u.Scheme != "" {
		b.WriteString(u.Scheme)
		b.WriteByte(':')
	}
	if u.Opaque != "" {
		b.WriteString(redactPath("", u.Opaque, webhook))
	} else {
		if u.Host != "" || u.User != nil {
			b.WriteString("//")
			if u.User != nil {
				b.WriteString(Mask + "@")
			}
			b.WriteString(u.Host)
		}
		b.WriteString(redactPath(u.Hostname(), u.EscapedPath(), webhook))
	}
	if u.RawQuery != "" || u.ForceQuery {
		b.WriteByte('?')
		b.WriteString(redactQuery(u.RawQuery))
	}
	if u.Fragment != "" {
		b.WriteString("#" + Mask)
	}
	return b.String()
}

// redactPath hides the secret part of an escaped path. host selects the
// well-known webhook rules; an empty host applies only the generic rules.
// With webhook set, nothing after the first segment is kept.
func redactPath(host, p string, webhook bool) string {
	segs := strings.Split(p, "/")
	// segs[0] is "" for an absolute path.
	first := 0
	if len(segs) > 0 && segs[0] == "" {
		first = 1
	}
	cut := secretFrom(strings.ToLower(host), segs, first)
	if webhook && (cut < 0 || cut > first+1) {
		cut = first + 1
		if len(segs) == first+1 || len(segs) == first+2 && segs[first+1] == "" {
			cut = first // one segment: it is the secret
		}
	}
	if cut < 0 || cut >= len(segs) {
		return p
	}
	if cut == len(segs)-1 && segs[cut] == "" {
		return p // trailing slash after the kept prefix: nothing to hide
	}
	if cut < first {
		cut = first
	}
	return strings.Join(segs[:cut], "/") + "/" + Mask
}

// secretFrom returns the index of the first segment to hide, or -1.
func secretFrom(host string, segs []string, first int) int {
	switch {
	case host == "hooks.slack.com",
		host == "outlook.office.com",
		strings.HasSuffix(host, ".webhook.office.com"):
		// /services/T.../B.../X..., /workflows/..., /webhookb2/...
		return first + 1
	}
	for i := first; i < len(segs); i++ {
		switch strings.ToLower(segs[i]) {
		case "hooks", "webhook", "webhooks", "webhookb2":
			// Everything after a hooks segment is the hook's identity.
			if i+1 < len(segs) {
				return i + 1
			}
		}
		if tokenLike(segs[i]) {
			return i
		}
	}
	return -1
}

// redactQuery keeps the keys of a raw query and hides the values.
func redactQuery(raw string) string {
	if raw == "" {
		return ""
	}
	parts := strings.Split(raw, "&")
	for i, part := range parts {
		key, _, hasValue := strings.Cut(part, "=")
		switch {
		case tokenLike(key):
			parts[i] = Mask
		case hasValue:
			parts[i] = key + "=" + Mask
		}
	}
	return strings.Join(parts, "&")
}

// tokenLike reports whether s contains a run of at least tokenRunLen
// characters from [A-Za-z0-9_-].
func tokenLike(s string) bool {
	run := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' {
			run++
			if run >= tokenRunLen {
				return true
			}
			continue
		}
		run = 0
	}
	return false
}

// urlInText matches URLs embedded in free text. Quotes, whitespace and angle
// brackets end a URL; trailing punctuation is trimmed by Text.
var urlInText = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile("(?i)\\b[a-z][a-z0-9+.-]*://[^\\s\"'<>`]+") })

// secretParam matches a query parameter with a secret-looking name after
// "?" or "&" anywhere in text: a relative URL (/healthz?token=…) or a
// scheme-less one has no "://" for urlInText to find.
var secretParam = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile("(?i)([?&](?:access_token|id_token|refresh_token|token|apikey|api_key|api-key|key|secret|client_secret|password|passwd|pwd|auth|sig|signature|x-amz-signature|x-amz-credential|x-amz-security-token|x-goog-signature|x-goog-credential)=)[^&\\s\"'<>`#]+")
})

// Text returns s with every URL embedded in it passed through URL, and the
// value of every secret-looking query parameter (token, key, sig,
// X-Amz-Signature, …) hidden even outside an absolute URL. It is the URL
// half of what Secrets.String does; use it when no secret values are known.
func Text(s string) string {
	if strings.Contains(s, "://") {
		s = urlInText().ReplaceAllStringFunc(s, func(m string) string {
			trimmed := strings.TrimRight(m, ".,;:!?)]}")
			return URL(trimmed) + m[len(trimmed):]
		})
	}
	if !strings.Contains(s, "=") {
		return s
	}
	return secretParam().ReplaceAllString(s, "${1}"+Mask)
}

// URLError returns err with the URL inside a top-level *url.Error (what
// net/http's Client returns) redacted, keeping the error type and chain so
// errors.Is and errors.As still work. Other errors are returned unchanged.
func URLError(err error) error {
	var ue *url.Error
	if err == nil || !errors.As(err, &ue) || ue != err { //nolint:errorlint // only a bare *url.Error is rewritten; wrapped ones are left alone
		return err
	}
	return &url.Error{Op: ue.Op, URL: URL(ue.URL), Err: ue.Err}
}
