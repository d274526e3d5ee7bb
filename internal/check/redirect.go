package check

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// Redirect policies of HTTP and Webhook checks (the redirects field).
const (
	// RedirectSameHost follows redirects that stay on the scheme, host and
	// port of the check's URL, and fails the check on any other. It is the
	// default: a check's headers often carry an API key, and a redirect to
	// another host would hand it over and quote that host's answer.
	RedirectSameHost = "same-host"
	// RedirectNone follows no redirect: the 3xx answer itself is judged
	// (it passes only when expectStatus names it).
	RedirectNone = "none"
	// RedirectAny follows redirects to any host, but drops the check's own
	// headers, Authorization, Cookie and Proxy-Authorization on every hop
	// that leaves the original host.
	RedirectAny = "any"
)

// maxRedirects is how many redirects a check follows before it fails, as
// net/http's default policy.
const maxRedirects = 10

// validateRedirects checks the redirects field; empty means RedirectSameHost.
func validateRedirects(p string) error {
	switch p {
	case "", RedirectSameHost, RedirectNone, RedirectAny:
		return nil
	}
	return fmt.Errorf("redirects %q: want %s (default), %s or %s", p, RedirectSameHost, RedirectNone, RedirectAny)
}

// errCrossHost is the redirect a same-host policy refused; the attempt's
// Detail says where it led and how to allow it.
type errCrossHost struct{ from, to string }

func (e *errCrossHost) Error() string {
	return fmt.Sprintf("redirected to other host %s (the url is on %s); set redirects: %s to follow it without the check's headers, or point the url at %s",
		e.to, e.from, RedirectAny, e.to)
}

// crossHostDetail returns the message of a refused cross-host redirect
// inside err, or "".
func crossHostDetail(err error) string {
	var ch *errCrossHost
	if errors.As(err, &ch) {
		return ch.Error()
	}
	return ""
}

// withRedirects returns a copy of c that applies policy; headers are the
// check's own headers, stripped on a hop to another host under RedirectAny.
// net/http itself forwards every custom header on a redirect and drops only
// Authorization and Cookie, and only when the new host is not a subdomain.
// The copy shares c's Transport, so connections are still pooled.
func withRedirects(c *http.Client, policy string, headers map[string]string) *http.Client {
	cp := *c
	cp.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if policy == RedirectNone {
			return http.ErrUseLastResponse
		}
		if len(via) >= maxRedirects {
			return fmt.Errorf("stopped after %d redirects", maxRedirects)
		}
		from, to := origin(via[0].URL), origin(req.URL)
		if from == to {
			return nil
		}
		if policy != RedirectAny {
			return &errCrossHost{from: from, to: to}
		}
		for k := range headers {
			req.Header.Del(k)
		}
		for _, k := range []string{"Authorization", "Cookie", "Proxy-Authorization"} {
			req.Header.Del(k)
		}
		return nil
	}
	return &cp
}

// origin is a URL's scheme://host:port with the scheme's default port filled
// in, so that http://h and http://h:80 are one origin. Userinfo, path and
// query are left out: the result is safe to print.
func origin(u *url.URL) string {
	scheme, port := strings.ToLower(u.Scheme), u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[scheme]
	}
	return scheme + "://" + net.JoinHostPort(strings.ToLower(u.Hostname()), port)
}
