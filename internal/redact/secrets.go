package redact

import (
	"net/url"
	"sort"
	"strings"
	"sync"
)

// MinSecretLen is the shortest value Secrets will hide. Shorter values (and
// common words such as "true") are ignored: hiding every "1" in command output
// would destroy it while protecting nothing worth protecting.
const MinSecretLen = 4

// notSecret lists values that appear under secret-looking keys but carry no
// secret, e.g. SKIP_TLS_KEY_CHECK=true.
var notSecret = map[string]bool{
	"true": true, "false": true, "yes": true, "no": true, "on": true,
	"off": true, "null": true, "none": true, "nil": true, "enabled": true,
	"disabled": true,
}

// secretKeyWords are the substrings that mark an environment variable as
// secret.
var secretKeyWords = []string{"TOKEN", "SECRET", "PASSWORD", "PASSWD", "KEY", "CREDENTIAL", "WEBHOOK"}

// IsSecretKey reports whether an environment variable (or header, or field)
// name looks like it holds a secret: it contains TOKEN, SECRET, PASSWORD,
// PASSWD, KEY, CREDENTIAL or WEBHOOK, case-insensitively.
func IsSecretKey(key string) bool {
	k := strings.ToUpper(key)
	for _, w := range secretKeyWords {
		if strings.Contains(k, w) {
			return true
		}
	}
	return false
}

// Env returns a copy of kv (KEY=VALUE entries as in os.Environ) in which the
// value of every secret-looking key is "***" and URLs in the other values are
// redacted with URL.
func Env(kv []string) []string {
	out := make([]string, len(kv))
	for i, e := range kv {
		key, val, ok := strings.Cut(e, "=")
		switch {
		case !ok:
			out[i] = e
		case IsSecretKey(key) && val != "":
			out[i] = key + "=" + Mask
		default:
			out[i] = key + "=" + Text(val)
		}
	}
	return out
}

// String returns s with every occurrence of the given secrets replaced by
// "***" and embedded URLs redacted. It is a one-shot form of Secrets.String.
func String(s string, secrets ...string) string {
	return NewSecrets(secrets...).String(s)
}

// Secrets is a set of known secret values (webhook URLs, tokens, header
// values, secret environment values). The zero value is empty and ready to
// use; a nil *Secrets hides only URL secrets. It is safe for concurrent use.
type Secrets struct {
	mu       sync.RWMutex
	values   map[string]bool
	replacer *strings.Replacer
}

// NewSecrets returns a set holding values (see Add).
func NewSecrets(values ...string) *Secrets {
	s := &Secrets{}
	s.Add(values...)
	return s
}

// Add records secret values. Values shorter than MinSecretLen or in the
// not-secret word list are ignored. A URL value also contributes its
// userinfo, query values and secret path segments, and an HTTP authorization
// value ("Bearer xyz", "Basic xyz") its credential, so that a partial echo is
// hidden too.
func (s *Secrets) Add(values ...string) {
	var add []string
	for _, v := range values {
		add = append(add, v)
		add = append(add, urlParts(v)...)
		add = append(add, authParts(v)...)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	changed := false
	for _, v := range add {
		if len(v) < MinSecretLen || notSecret[strings.ToLower(v)] || s.values[v] {
			continue
		}
		if s.values == nil {
			s.values = map[string]bool{}
		}
		s.values[v] = true
		changed = true
	}
	if changed {
		s.rebuild()
	}
}

// AddURL records the credentials of a URL that is not itself a secret (a
// health or preview URL): its password, token-like username and query
// values, so that they are hidden wherever they are echoed on their own.
// Unlike Add, the URL itself and its path stay readable.
func (s *Secrets) AddURL(u string) {
	if parsed := absURL(u); parsed != nil {
		s.Add(urlCredentials(parsed)...)
	}
}

// AddEnv records the values of the secret-looking entries of kv (KEY=VALUE
// entries as in os.Environ; see IsSecretKey).
func (s *Secrets) AddEnv(kv []string) {
	var vals []string
	for _, e := range kv {
		if key, val, ok := strings.Cut(e, "="); ok && IsSecretKey(key) {
			vals = append(vals, val)
		}
	}
	s.Add(vals...)
}

// Len reports how many distinct values the set hides.
func (s *Secrets) Len() int {
	if s == nil {
		return 0
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.values)
}

// String returns str with every known secret replaced by "***" and every
// embedded URL redacted with URL.
func (s *Secrets) String(str string) string {
	return Text(s.Replace(str))
}

// Replace returns str with every known secret replaced by "***", without
// URL redaction. Use it to apply several sets before one final Text: URL
// redaction first could alter a secret so that it is no longer found.
func (s *Secrets) Replace(str string) string {
	if s == nil {
		return str
	}
	s.mu.RLock()
	r := s.replacer
	s.mu.RUnlock()
	if r == nil {
		return str
	}
	return r.Replace(str)
}

// rebuild recreates the replacer, longest values first so that a secret
// containing another secret is hidden whole. Callers hold s.mu.
func (s *Secrets) rebuild() {
	vals := make([]string, 0, len(s.values))
	for v := range s.values {
		vals = append(vals, v)
	}
	sort.Slice(vals, func(i, j int) bool {
		if len(vals[i]) != len(vals[j]) {
			return len(vals[i]) > len(vals[j])
		}
		return vals[i] < vals[j]
	})
	pairs := make([]string, 0, 2*len(vals))
	for _, v := range vals {
		pairs = append(pairs, v, Mask)
	}
	s.replacer = strings.NewReplacer(pairs...)
}

// authSchemes are HTTP authorization schemes whose credential is added on its
// own by Secrets.Add.
var authSchemes = map[string]bool{"bearer": true, "basic": true, "token": true, "bot": true, "apikey": true}

// authParts returns the credential of an authorization value such as
// "Bearer xyz".
func authParts(v string) []string {
	f := strings.Fields(v)
	if len(f) == 2 && authSchemes[strings.ToLower(f[0])] {
		return []string{f[1]}
	}
	return nil
}

// urlParts returns the secret pieces of v if it is an absolute URL: its
// credentials (see urlCredentials), the path after the first segment (as
// WebhookURL hides it) and its token-like segments.
func urlParts(v string) []string {
	u := absURL(v)
	if u == nil {
		return nil
	}
	parts := urlCredentials(u)
	ep := u.EscapedPath()
	if red := redactPath(u.Hostname(), ep, true); red != ep {
		hidden := ep[len(strings.TrimSuffix(red, Mask)):]
		parts = append(parts, hidden)
		for _, seg := range strings.Split(hidden, "/") {
			if tokenLike(seg) {
				parts = append(parts, seg)
			}
		}
	}
	return parts
}

// absURL parses v if it is an absolute URL with a host, else returns nil.
func absURL(v string) *url.URL {
	if !strings.Contains(v, "://") {
		return nil
	}
	u, err := url.Parse(v)
	if err != nil || u.Host == "" {
		return nil
	}
	return u
}

// urlCredentials returns the password, a token-like username and the query
// values of u.
func urlCredentials(u *url.URL) []string {
	var parts []string
	if u.User != nil {
		if p, ok := u.User.Password(); ok {
			parts = append(parts, p)
		}
		if name := u.User.Username(); tokenLike(name) {
			parts = append(parts, name)
		}
	}
	for _, vals := range u.Query() {
		parts = append(parts, vals...)
	}
	return parts
}
