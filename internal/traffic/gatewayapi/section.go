package gatewayapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/bluegreen/bluegreen/internal/spec"
	"github.com/bluegreen/bluegreen/internal/traffic"
)

// Section is the namespace scope's "gateway" section for this router.
type Section struct {
	Router      string `json:"router"`
	ProdHost    string `json:"prodHost"`
	PreprodHost string `json:"preprodHost"`
	// RouteNamespace is where bluegreen's HTTPRoutes live.
	RouteNamespace string      `json:"routeNamespace"`
	ParentRefs     []ParentRef `json:"parentRefs"`
	Rules          []Rule      `json:"rules"`
	// Addresses are where checks reach the Gateway (Target.Entrances).
	Addresses []Address `json:"addresses,omitempty"`
	// StatusTimeout bounds the wait for a Gateway controller to report on
	// the routes; zero means DefaultStatusTimeout.
	StatusTimeout spec.Duration `json:"statusTimeout,omitzero"`
}

// ParentRef names a Gateway (and optionally one of its listeners) that the
// routes attach to.
type ParentRef struct {
	Name string `json:"name"`
	// Namespace is the Gateway's namespace; empty means the route namespace.
	Namespace   string `json:"namespace,omitempty"`
	SectionName string `json:"sectionName,omitempty"`
}

// String renders "gateway-system/public" or "gateway-system/public/http".
func (p ParentRef) String() string {
	if p.SectionName == "" {
		return p.Namespace + "/" + p.Name
	}
	return p.Namespace + "/" + p.Name + "/" + p.SectionName
}

// Rule sends requests whose path starts with PathPrefix to the Service of
// that name, on Port, in the namespace of each color.
type Rule struct {
	PathPrefix string `json:"pathPrefix"`
	Service    string `json:"service"`
	Port       int    `json:"port"`
}

// Address is where checks can send requests to the Gateway directly.
type Address struct {
	Name    string `json:"name"`
	Address string `json:"address"`
}

// Config is everything Shift and Observe need, carried in the target's
// OptionConfig as JSON: the section, defaulted and validated, with the
// product and its namespaces.
type Config struct {
	Product string `json:"product"`
	// Namespaces holds each color's namespace.
	Namespaces     map[string]string `json:"namespaces"`
	RouteNamespace string            `json:"routeNamespace"`
	ProdHost       string            `json:"prodHost"`
	PreprodHost    string            `json:"preprodHost"`
	// ParentRefs have their Namespace filled in.
	ParentRefs    []ParentRef   `json:"parentRefs"`
	Rules         []Rule        `json:"rules"`
	StatusTimeout spec.Duration `json:"statusTimeout"`
}

// DefaultStatusTimeout is how long Shift waits for a Gateway controller to
// report on the routes when the section does not say.
const DefaultStatusTimeout = 5 * time.Second

// maxStatusTimeout catches a unit typo ("10h" for "10s"): a shift step
// should not hang for hours on a controller that never answers.
const maxStatusTimeout = 10 * time.Minute

// Limits of the HTTPRoute and ReferenceGrant CRDs, checked here so that a
// spec fails while planning rather than at the first write.
const (
	maxRules      = 16
	maxParentRefs = 32
	maxPathLength = 1024
)

// pathChars is what the HTTPRoute CRD allows in a path match.
var pathChars = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^(?:[-A-Za-z0-9/._~!$&'()*+,;=:@]|[%][0-9a-fA-F]{2})+$`)
})

// parseSection reads a "gateway" section strictly: an unknown field is an
// error and every field is validated, naming it and the fix.
func parseSection(n traffic.NamespaceSwitch, section []byte) (traffic.Target, error) {
	var sec Section
	if err := spec.DecodeStrict("gateway", section, &sec); err != nil {
		return traffic.Target{}, err
	}
	if sec.Router != "" && sec.Router != Name {
		return traffic.Target{}, fmt.Errorf("gateway.router %q: this section is for router %s", sec.Router, Name)
	}
	cfg, err := newConfig(n, sec)
	if err != nil {
		return traffic.Target{}, fmt.Errorf("gateway: %w", err)
	}
	for i, a := range sec.Addresses {
		if err := validAddress(a); err != nil {
			return traffic.Target{}, fmt.Errorf("gateway.addresses[%d]: %w", i, err)
		}
		if slices.ContainsFunc(sec.Addresses[:i], func(b Address) bool { return b.Name == a.Name }) {
			return traffic.Target{}, fmt.Errorf("gateway.addresses[%d]: name %q is used twice: give each address its own name", i, a.Name)
		}
	}
	return target(cfg, sec.Addresses)
}

// newConfig validates sec for product n and fills in its defaults.
func newConfig(n traffic.NamespaceSwitch, sec Section) (Config, error) {
	if err := validSwitch(n); err != nil {
		return Config{}, err
	}
	if err := validHost("prodHost", sec.ProdHost, "myapp.com"); err != nil {
		return Config{}, err
	}
	if err := validHost("preprodHost", sec.PreprodHost, "preprod.myapp.com"); err != nil {
		return Config{}, err
	}
	if strings.EqualFold(sec.ProdHost, sec.PreprodHost) {
		return Config{}, fmt.Errorf("preprodHost %q: same as prodHost: give the idle color a host of its own, such as preprod.%s", sec.PreprodHost, sec.ProdHost)
	}
	if sec.RouteNamespace == "" {
		return Config{}, errors.New("routeNamespace: required: name the namespace bluegreen's HTTPRoutes live in, e.g. payments-gateway")
	}
	if msgs := validation.IsDNS1123Label(sec.RouteNamespace); len(msgs) > 0 {
		return Config{}, fmt.Errorf("routeNamespace %q: not a namespace name: %s", sec.RouteNamespace, strings.Join(msgs, "; "))
	}
	parents, err := validParents(sec.ParentRefs, sec.RouteNamespace)
	if err != nil {
		return Config{}, err
	}
	if err := validRules(sec.Rules); err != nil {
		return Config{}, err
	}
	timeout := sec.StatusTimeout.D()
	switch {
	case timeout < 0 || timeout > maxStatusTimeout:
		return Config{}, fmt.Errorf("statusTimeout %s: want a duration from 0s to %s, e.g. 10s (0s or none means %s)", timeout, maxStatusTimeout, DefaultStatusTimeout)
	case timeout == 0:
		timeout = DefaultStatusTimeout
	}
	return Config{Product: n.Product, Namespaces: n.Namespaces, RouteNamespace: sec.RouteNamespace,
		ProdHost: strings.ToLower(sec.ProdHost), PreprodHost: strings.ToLower(sec.PreprodHost),
		ParentRefs: parents, Rules: sec.Rules, StatusTimeout: spec.Duration(timeout)}, nil
}

// validSwitch checks what the router builds names from: the product names
// the routes, labels and grants; each color's namespace holds its Services.
func validSwitch(n traffic.NamespaceSwitch) error {
	if msgs := validation.IsDNS1123Label(n.Product); len(msgs) > 0 || len(n.Product) > 40 {
		return fmt.Errorf("product %q: want at most 40 lower-case letters, digits and '-' (it names the HTTPRoutes bluegreen-%s-prod and -preprod)", n.Product, n.Product)
	}
	if len(n.Namespaces) != 2 {
		return fmt.Errorf("namespaces: want exactly two colors, got %d", len(n.Namespaces))
	}
	seen := map[string]string{}
	for _, c := range colors(n.Namespaces) {
		ns := n.Namespaces[c]
		if msgs := validation.IsDNS1123Label(ns); len(msgs) > 0 {
			return fmt.Errorf("namespaces.%s %q: not a namespace name: %s", c, ns, strings.Join(msgs, "; "))
		}
		if other, dup := seen[ns]; dup {
			return fmt.Errorf("namespaces.%s: namespace %q is also %s's: give each color a namespace of its own", c, ns, other)
		}
		seen[ns] = c
	}
	return nil
}

// validHost accepts what an HTTPRoute hostname accepts, minus wildcards:
// checks send the host as a Host header, which cannot be a pattern.
func validHost(field, h, example string) error {
	switch {
	case h == "":
		return fmt.Errorf("%s: required, e.g. %s", field, example)
	case strings.HasPrefix(h, "*."):
		return fmt.Errorf("%s %q: a wildcard cannot be switched as one host: give an exact host name, e.g. %s", field, h, example)
	case net.ParseIP(h) != nil:
		return fmt.Errorf("%s %q: an IP address is not a host name for an HTTPRoute: give a host name, e.g. %s", field, h, example)
	}
	if msgs := validation.IsDNS1123Subdomain(strings.ToLower(h)); len(msgs) > 0 {
		return fmt.Errorf("%s %q: not a host name (%s): give one such as %s", field, h, strings.Join(msgs, "; "), example)
	}
	return nil
}

// validParents checks the parent references and returns them with their
// namespace filled in (routeNS when empty).
func validParents(refs []ParentRef, routeNS string) ([]ParentRef, error) {
	if len(refs) == 0 {
		return nil, errors.New("parentRefs: want at least one Gateway, e.g. [{name: public, namespace: gateway-system}]")
	}
	if len(refs) > maxParentRefs {
		return nil, fmt.Errorf("parentRefs: %d Gateways, an HTTPRoute takes at most %d", len(refs), maxParentRefs)
	}
	out := make([]ParentRef, len(refs))
	for i, p := range refs {
		if p.Namespace == "" {
			p.Namespace = routeNS
		}
		switch {
		case p.Name == "":
			return nil, fmt.Errorf("parentRefs[%d].name: required: name the Gateway, e.g. public", i)
		case len(validation.IsDNS1123Subdomain(p.Name)) > 0:
			return nil, fmt.Errorf("parentRefs[%d].name %q: not a Gateway name: want lower-case letters, digits, '-' and '.'", i, p.Name)
		case len(validation.IsDNS1123Label(p.Namespace)) > 0:
			return nil, fmt.Errorf("parentRefs[%d].namespace %q: not a namespace name: want lower-case letters, digits and '-'", i, p.Namespace)
		case p.SectionName != "" && len(validation.IsDNS1123Subdomain(p.SectionName)) > 0:
			return nil, fmt.Errorf("parentRefs[%d].sectionName %q: not a listener name: want lower-case letters, digits, '-' and '.'", i, p.SectionName)
		case slices.Contains(out[:i], p):
			return nil, fmt.Errorf("parentRefs[%d]: %s is listed twice: list each Gateway listener once", i, p)
		}
		out[i] = p
	}
	return out, nil
}

// validRules checks each rule's path prefix the way the HTTPRoute CRD
// does, and its Service and port.
func validRules(rules []Rule) error {
	if len(rules) == 0 {
		return errors.New("rules: want at least one, e.g. [{pathPrefix: /, service: frontend, port: 80}]")
	}
	if len(rules) > maxRules {
		return fmt.Errorf("rules: %d rules, an HTTPRoute takes at most %d: merge rules that go to the same Service", len(rules), maxRules)
	}
	for i, r := range rules {
		if err := validPath(r.PathPrefix); err != nil {
			return fmt.Errorf("rules[%d].pathPrefix: %w", i, err)
		}
		if slices.ContainsFunc(rules[:i], func(o Rule) bool { return o.PathPrefix == r.PathPrefix }) {
			return fmt.Errorf("rules[%d].pathPrefix %q: used by an earlier rule too: give each path prefix one rule", i, r.PathPrefix)
		}
		if r.Service == "" {
			return fmt.Errorf("rules[%d].service: required: name the Service (named alike in both namespaces), e.g. frontend", i)
		}
		if msgs := validation.IsDNS1035Label(r.Service); len(msgs) > 0 {
			return fmt.Errorf("rules[%d].service %q: not a Service name: %s", i, r.Service, strings.Join(msgs, "; "))
		}
		if len(validation.IsValidPortNum(r.Port)) > 0 {
			return fmt.Errorf("rules[%d].port %d: want the Service's port, 1 to 65535", i, r.Port)
		}
	}
	return nil
}

// validPath applies the HTTPRoute CRD's rules for a PathPrefix value.
func validPath(p string) error {
	switch {
	case p == "":
		return errors.New("required: give a path such as / or /payment")
	case !strings.HasPrefix(p, "/"):
		return fmt.Errorf("%q: want a path starting with '/', e.g. /%s", p, p)
	case len(p) > maxPathLength:
		return fmt.Errorf("%d characters: want at most %d", len(p), maxPathLength)
	case !pathChars().MatchString(p):
		return fmt.Errorf("%q: want only letters, digits, -._~!$&'()*+,;=:@/ and %%XX escapes", p)
	}
	for _, bad := range []string{"//", "/./", "/../", "%2f", "%2F", "#"} {
		if strings.Contains(p, bad) {
			return fmt.Errorf("%q: must not contain %q", p, bad)
		}
	}
	if strings.HasSuffix(p, "/.") || strings.HasSuffix(p, "/..") {
		return fmt.Errorf("%q: must not end with %q or %q", p, "/.", "/..")
	}
	return nil
}

func validAddress(a Address) error {
	if a.Name == "" {
		return errors.New("name: required, e.g. public")
	}
	host, port, err := net.SplitHostPort(a.Address)
	if err != nil || host == "" {
		return fmt.Errorf("address %s %q: want host:port where the Gateway serves plain HTTP, e.g. 10.0.0.9:80", a.Name, a.Address)
	}
	if p, err := strconv.Atoi(port); err != nil || len(validation.IsValidPortNum(p)) > 0 {
		return fmt.Errorf("address %s %q: port %q: want 1 to 65535", a.Name, a.Address, port)
	}
	return nil
}

// target builds the router's target: named after the prod route, which
// carries the split, with cfg in its options.
func target(cfg Config, addrs []Address) (traffic.Target, error) {
	raw, err := json.Marshal(cfg)
	if err != nil {
		return traffic.Target{}, fmt.Errorf("encode gateway-api target %s: %w", cfg.Product, err)
	}
	carriers := make(map[string]string, len(cfg.Namespaces))
	for c, ns := range cfg.Namespaces {
		carriers[c] = "namespace " + ns
	}
	var entrances []traffic.Entrance
	for _, a := range addrs {
		entrances = append(entrances, traffic.Entrance{Name: a.Name, Address: a.Address})
	}
	return traffic.Target{Name: RouteName(cfg.Product, traffic.HostProd), Namespace: cfg.RouteNamespace,
		Options: map[string]string{OptionConfig: string(raw)}, Carriers: carriers, Entrances: entrances,
		Hosts: map[string]string{traffic.HostProd: cfg.ProdHost, traffic.HostPreprod: cfg.PreprodHost}}, nil
}

// config reads a target's Config back.
func config(t traffic.Target) (Config, error) {
	var cfg Config
	raw, ok := t.Options[OptionConfig]
	if !ok {
		return cfg, fmt.Errorf("gateway-api target %s/%s: option %s missing: build the target with traffic.Namespace", t.Namespace, t.Name, OptionConfig)
	}
	if err := json.Unmarshal([]byte(raw), &cfg); err != nil {
		return cfg, fmt.Errorf("gateway-api target %s/%s: option %s: %w", t.Namespace, t.Name, OptionConfig, err)
	}
	if len(cfg.Namespaces) != 2 || len(cfg.Rules) == 0 || len(cfg.ParentRefs) == 0 {
		return cfg, fmt.Errorf("gateway-api target %s/%s: option %s is incomplete: build the target with traffic.Namespace", t.Namespace, t.Name, OptionConfig)
	}
	if cfg.StatusTimeout <= 0 {
		cfg.StatusTimeout = spec.Duration(DefaultStatusTimeout)
	}
	return cfg, nil
}

// colors returns the colors of m, sorted.
func colors(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for c := range m {
		out = append(out, c)
	}
	slices.Sort(out)
	return out
}
