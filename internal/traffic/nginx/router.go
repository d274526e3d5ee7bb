package nginx

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/bluegreen/bluegreen/internal/clock"
	"github.com/bluegreen/bluegreen/internal/spec"
	"github.com/bluegreen/bluegreen/internal/traffic"
)

// Name is the router's name in specs.
const Name = "nginx"

// Target options: the site and its gateways, JSON-encoded.
const (
	OptionSite     = "site"
	OptionGateways = "gateways"
)

func init() {
	traffic.Register(traffic.Plugin{Name: Name, New: func(d traffic.Deps) (traffic.Router, error) {
		return &Router{clock: d.Clock, crash: d.Crash, log: d.Log}, nil
	}, Namespace: parseSection})
}

// Section is the namespace scope's "gateway" section for this router.
type Section struct {
	Router      string              `json:"router"`
	ProdHost    string              `json:"prodHost"`
	PreprodHost string              `json:"preprodHost"`
	Listen      string              `json:"listen,omitempty"`
	VerifyPath  string              `json:"verifyPath,omitempty"`
	Upstreams   map[string]Upstream `json:"upstreams"`
	Gateways    []Gateway           `json:"gateways"`
	Adopt       string              `json:"adopt,omitempty"`
}

// parseSection reads a "gateway" section strictly: an unknown field is an
// error, every upstream is one of the product's colors, and every field is
// validated, naming it.
func parseSection(n traffic.NamespaceSwitch, section []byte) (traffic.Target, error) {
	var sec Section
	if err := spec.DecodeStrict("gateway", section, &sec); err != nil {
		return traffic.Target{}, err
	}
	for c := range sec.Upstreams {
		if _, ok := n.Namespaces[c]; !ok {
			return traffic.Target{}, fmt.Errorf("gateway.upstreams.%s: not a color of the product (want %s)", c, colorList(n.Namespaces))
		}
	}
	for c := range n.Namespaces {
		if _, ok := sec.Upstreams[c]; !ok {
			return traffic.Target{}, fmt.Errorf("gateway.upstreams.%s: missing: give the entry point (ingress or load balancer, host:port) of namespace %s", c, n.Namespaces[c])
		}
	}
	site := Site{Product: n.Product, Listen: sec.Listen, ProdHost: sec.ProdHost, PreprodHost: sec.PreprodHost, Upstreams: sec.Upstreams, VerifyPath: sec.VerifyPath, Adopt: sec.Adopt}
	t, err := Target(site, sec.Gateways)
	if err != nil {
		return traffic.Target{}, fmt.Errorf("gateway: %w", err)
	}
	return t, nil
}

func colorList(m map[string]string) string {
	out := make([]string, 0, len(m))
	for c := range m {
		out = append(out, c)
	}
	slices.Sort(out)
	return strings.Join(out, " and ")
}

// Router moves a site's production host between two colors on every
// gateway of its set (see Set.Apply).
type Router struct {
	clock clock.Clock
	crash func(point string)
	log   *slog.Logger
	// Dial, when set, replaces how gateways are reached (tests).
	Dial func(ctx context.Context, g Gateway) (Transport, error)
}

// Target returns the router's target for site on gateways.
func Target(site Site, gateways []Gateway) (traffic.Target, error) {
	if err := site.Validate(); err != nil {
		return traffic.Target{}, err
	}
	if len(gateways) == 0 {
		return traffic.Target{}, fmt.Errorf("gateways: want at least one")
	}
	names := map[string]bool{}
	for i, g := range gateways {
		if err := g.Validate(); err != nil {
			return traffic.Target{}, fmt.Errorf("gateways[%d]: %w", i, err)
		}
		if names[g.Name] {
			return traffic.Target{}, fmt.Errorf("gateways[%d]: name %q is used twice", i, g.Name)
		}
		names[g.Name] = true
	}
	s, err := json.Marshal(site)
	if err != nil {
		return traffic.Target{}, err
	}
	gw, err := json.Marshal(gateways)
	if err != nil {
		return traffic.Target{}, err
	}
	carriers := map[string]string{}
	for c, u := range site.Upstreams {
		carriers[c] = fmt.Sprintf("upstream %v", u.Servers)
	}
	entrances := make([]traffic.Entrance, len(gateways))
	for i, g := range gateways {
		entrances[i] = traffic.Entrance{Name: g.Name, Address: g.Address}
	}
	return traffic.Target{Name: site.Product, Options: map[string]string{OptionSite: string(s), OptionGateways: string(gw)}, Carriers: carriers,
		Entrances: entrances, Hosts: map[string]string{traffic.HostProd: site.ProdHost, traffic.HostPreprod: site.PreprodHost}}, nil
}

func (r *Router) set(t traffic.Target) (Site, *Set, error) {
	var site Site
	var gws []Gateway
	if err := json.Unmarshal([]byte(t.Options[OptionSite]), &site); err != nil {
		return site, nil, fmt.Errorf("nginx target %s: site: %w", t.Name, err)
	}
	if err := json.Unmarshal([]byte(t.Options[OptionGateways]), &gws); err != nil {
		return site, nil, fmt.Errorf("nginx target %s: gateways: %w", t.Name, err)
	}
	set := &Set{Gateways: gws, Dial: r.Dial, Clock: r.clock, Log: r.log}
	if r.crash != nil {
		set.AfterEach = func(gateway string) { r.crash("gateway-" + gateway) }
	}
	return site, set, nil
}

// Observe implements traffic.Router: the split the gateways' files send
// production to, or an error when they disagree.
func (r *Router) Observe(ctx context.Context, t traffic.Target) (traffic.Split, error) {
	site, set, err := r.set(t)
	if err != nil {
		return nil, err
	}
	split, _, err := set.Observe(ctx, site)
	return traffic.Split(split), err
}

// Shift implements traffic.Router. The preprod host goes to the color that
// gets nothing once one gets everything; during a progressive shift it
// stays where the gateways had it.
func (r *Router) Shift(ctx context.Context, t traffic.Target, s traffic.Split) error {
	site, set, err := r.set(t)
	if err != nil {
		return err
	}
	preprod := ""
	for c, w := range s {
		if w == 0 {
			preprod = c
		}
	}
	if preprod == "" {
		_, cur, oerr := set.Observe(ctx, site)
		if oerr != nil {
			return fmt.Errorf("shift %s to %s: read which color preprod reaches: %w", site.Product, s, oerr)
		}
		preprod = cur
	}
	return set.Apply(ctx, site, s, preprod)
}
