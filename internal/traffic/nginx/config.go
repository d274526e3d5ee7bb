// Package nginx is the router of a pair (or more) of nginx gateways in front
// of two namespaces: it writes, on every gateway, the one file that maps the
// production host to the active color's upstream and the preprod host to
// the idle one, validates it with `nginx -t`, reloads nginx gracefully and
// checks through the gateway itself that the new color answers. A switch is
// all or nothing across the gateways: production is never left split
// between them.
package nginx

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"path"
	"slices"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
)

// Site is what a product's file on a gateway routes.
type Site struct {
	// Product names the file (bluegreen-<product>.conf) and its upstreams.
	Product string `json:"product"`
	// Listen is nginx's listen parameter for both hosts, e.g. "80" or
	// "127.0.0.1:8080" (default "80").
	Listen string `json:"listen,omitempty"`
	// ProdHost is the production host name, PreprodHost the one that
	// reaches the idle color.
	ProdHost    string `json:"prodHost"`
	PreprodHost string `json:"preprodHost"`
	// Upstreams are each color's entry points (its namespace's ingress or
	// load balancer), by color.
	Upstreams map[string]Upstream `json:"upstreams"`
	// VerifyPath is requested through each gateway after a reload (default "/").
	VerifyPath string `json:"verifyPath,omitempty"`
	// Adopt names the file in each gateway's config folder that serves
	// the hosts before bluegreen does (e.g. myapp.conf). The first switch
	// keeps a copy of it as <Adopt>.adopted-by-bluegreen and empties it
	// in the same reload that brings bluegreen's file in, so that no
	// request meets a gateway without the hosts, or with them twice.
	Adopt string `json:"adopt,omitempty"`
}

// AdoptedSuffix is added to the name of an adopted file's copy; nginx
// includes *.conf only, so the copy is not read.
const AdoptedSuffix = ".adopted-by-bluegreen"

// Upstream is one color's entry point.
type Upstream struct {
	// Servers are host:port addresses.
	Servers []string `json:"servers"`
	// Host, when set, is the Host header sent upstream (an ingress that
	// routes by host); default: the client's.
	Host string `json:"host,omitempty"`
}

// ColorHeader is the response header every request through a managed host
// carries: the split the gateway's current file sends production to (or,
// for the preprod host, the idle color). A verification reads it back.
const ColorHeader = "X-Bluegreen-Color"

// label and host are Kubernetes' name rules (a DNS label, a DNS
// subdomain): they also keep nginx's syntax out of names and hosts.
func label(s string) bool { return len(validation.IsDNS1123Label(s)) == 0 }
func host(s string) bool  { return len(validation.IsDNS1123Subdomain(s)) == 0 }

// Validate checks every field, naming the field and the fix.
func (s Site) Validate() error {
	switch {
	case !label(s.Product):
		return fmt.Errorf("product %q: want lower-case letters, digits and '-' (it names the gateway file)", s.Product)
	case !host(s.ProdHost):
		return fmt.Errorf("prodHost %q: want a host name such as myapp.com", s.ProdHost)
	case !host(s.PreprodHost) || s.PreprodHost == s.ProdHost:
		return fmt.Errorf("preprodHost %q: want a host name other than prodHost, such as preprod.myapp.com", s.PreprodHost)
	case len(s.Upstreams) != 2:
		return fmt.Errorf("upstreams: want exactly two colors, got %d", len(s.Upstreams))
	}
	if s.Listen != "" && !validListen(s.Listen) {
		return fmt.Errorf("listen %q: want a port (80) or an address and port (127.0.0.1:8080)", s.Listen)
	}
	if s.VerifyPath != "" && (!strings.HasPrefix(s.VerifyPath, "/") || strings.ContainsAny(s.VerifyPath, " \t\r\n")) {
		return fmt.Errorf("verifyPath %q: want an absolute path such as /healthz", s.VerifyPath)
	}
	if s.Adopt != "" && (s.Adopt != path.Base(s.Adopt) || !strings.HasSuffix(s.Adopt, ".conf") || s.Adopt == s.FileName()) {
		return fmt.Errorf("adopt %q: want the name of the .conf file in each gateway's configDir that serves the hosts today, e.g. myapp.conf", s.Adopt)
	}
	for _, c := range s.colors() {
		u := s.Upstreams[c]
		if !label(c) {
			return fmt.Errorf("upstreams: color %q: want lower-case letters, digits and '-'", c)
		}
		if len(u.Servers) == 0 {
			return fmt.Errorf("upstreams.%s.servers: want at least one host:port", c)
		}
		for _, srv := range u.Servers {
			if _, port, err := net.SplitHostPort(srv); err != nil || port == "" || strings.ContainsAny(srv, " ;{}'\"") {
				return fmt.Errorf("upstreams.%s.servers: %q is not host:port", c, srv)
			}
		}
		if u.Host != "" && !host(u.Host) {
			return fmt.Errorf("upstreams.%s.host %q: want a host name", c, u.Host)
		}
	}
	return nil
}

func validListen(l string) bool {
	if p, err := strconv.Atoi(l); err == nil {
		return p > 0 && p < 65536
	}
	_, port, err := net.SplitHostPort(l)
	p, perr := strconv.Atoi(port)
	return err == nil && perr == nil && p > 0 && p < 65536
}

// colors are the site's two colors, sorted.
func (s Site) colors() []string {
	out := make([]string, 0, len(s.Upstreams))
	for c := range s.Upstreams {
		out = append(out, c)
	}
	slices.Sort(out)
	return out
}

// FileName is the name of the product's file in a gateway's config folder.
func (s Site) FileName() string { return "bluegreen-" + s.Product + ".conf" }

// header is the first line of every file bluegreen writes: what it routes,
// read back by Observe.
type header struct {
	Product string         `json:"product"`
	Prod    map[string]int `json:"prod"`
	Preprod string         `json:"preprod"`
	// Hosts are the production and the preprod host the file routes.
	Hosts []string `json:"hosts,omitempty"`
}

const headerPrefix = "# bluegreen: "

// Render returns the file that sends production to split (percent per
// color, summing to 100) and the preprod host to preprod.
func (s Site) Render(split map[string]int, preprod string) ([]byte, error) {
	if err := s.checkSplit(split, preprod); err != nil {
		return nil, err
	}
	h, err := json.Marshal(header{Product: s.Product, Prod: split, Preprod: preprod, Hosts: []string{s.ProdHost, s.PreprodHost}})
	if err != nil {
		return nil, err
	}
	listen := s.Listen
	if listen == "" {
		listen = "80"
	}
	up := "bluegreen_" + strings.ReplaceAll(s.Product, "-", "_")
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s%s\n", headerPrefix, h)
	fmt.Fprintf(&b, "# Written by bluegreen for product %s; every switch rewrites it, so edit the release spec, not this file.\n\n", s.Product)
	// Production: each color with its share; a color at 0 is left out
	// (nginx has no weight 0).
	fmt.Fprintf(&b, "upstream %s_prod {\n", up)
	for _, c := range s.colors() {
		if split[c] == 0 {
			continue
		}
		for _, srv := range s.Upstreams[c].Servers {
			fmt.Fprintf(&b, "    server %s weight=%d; # %s\n", srv, split[c], c)
		}
	}
	b.WriteString("    keepalive 32;\n}\n\n")
	fmt.Fprintf(&b, "upstream %s_preprod {\n", up)
	for _, srv := range s.Upstreams[preprod].Servers {
		fmt.Fprintf(&b, "    server %s; # %s\n", srv, preprod)
	}
	b.WriteString("    keepalive 8;\n}\n\n")
	prodHost := s.upstreamHost(split)
	s.server(&b, listen, s.ProdHost, up+"_prod", prodHost, splitLabel(split))
	s.server(&b, listen, s.PreprodHost, up+"_preprod", s.Upstreams[preprod].Host, preprod)
	return b.Bytes(), nil
}

// upstreamHost is the Host header production requests carry upstream: the
// serving color's, when only one serves and it sets one.
func (s Site) upstreamHost(split map[string]int) string {
	for c, w := range split {
		if w == 100 {
			return s.Upstreams[c].Host
		}
	}
	return ""
}

func (s Site) server(b *bytes.Buffer, listen, host, upstream, upstreamHost, label string) {
	hostHeader := "$host"
	if upstreamHost != "" {
		hostHeader = upstreamHost
	}
	fmt.Fprintf(b, `server {
    listen %s;
    server_name %s;
    location / {
        proxy_pass http://%s;
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_set_header Host %s;
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        proxy_next_upstream error timeout http_502 http_503;
        add_header %s %s always;
    }
}

`, listen, host, upstream, hostHeader, ColorHeader, label)
}

// splitLabel is the color header's value: the one color that gets
// everything, or "blue=30,green=70".
func splitLabel(split map[string]int) string {
	colors := make([]string, 0, len(split))
	for c, w := range split {
		if w == 100 {
			return c
		}
		colors = append(colors, c)
	}
	slices.Sort(colors)
	parts := make([]string, 0, len(colors))
	for _, c := range colors {
		parts = append(parts, fmt.Sprintf("%s=%d", c, split[c]))
	}
	return strings.Join(parts, ",")
}

func (s Site) checkSplit(split map[string]int, preprod string) error {
	sum := 0
	for c, w := range split {
		if _, ok := s.Upstreams[c]; !ok || w < 0 {
			return fmt.Errorf("split %v: color %q is not one of the site's (%s)", split, c, strings.Join(s.colors(), ", "))
		}
		sum += w
	}
	if sum != 100 {
		return fmt.Errorf("split %v: the shares sum to %d, want 100", split, sum)
	}
	if _, ok := s.Upstreams[preprod]; !ok {
		return fmt.Errorf("preprod color %q is not one of the site's (%s)", preprod, strings.Join(s.colors(), ", "))
	}
	return nil
}

// parseHeader reads what a file written by Render routes; ok is false for
// a file bluegreen did not write.
func parseHeader(file []byte) (h header, ok bool) {
	line, _, _ := bytes.Cut(file, []byte("\n"))
	rest, found := bytes.CutPrefix(line, []byte(headerPrefix))
	if !found || json.Unmarshal(rest, &h) != nil {
		return header{}, false
	}
	return h, true
}
