package route53

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/bluegreen/bluegreen/internal/traffic"
)

// Target options. Per-color options are "<color>.<suffix>", for example
// "blue.set-identifier"; build them with ColorOption.
const (
	// ZoneOption is the ID of the hosted zone holding the record ("Z0123…").
	ZoneOption = "zone"
	// TypeOption is the record type: A, AAAA or CNAME (default CNAME).
	TypeOption = "type"
	// TTLOption is the TTL in seconds written on non-alias record sets
	// (default 60). Alias record sets take the TTL of their target.
	TTLOption = "ttl"
	// SyncTimeoutOption bounds how long Shift waits for INSYNC (default 2m).
	SyncTimeoutOption = "sync-timeout"
	// PollIntervalOption is how often Shift asks for the change's status
	// (default 1s).
	PollIntervalOption = "poll-interval"

	// SetIdentifierOption is the per-color suffix for the record set's set
	// identifier.
	SetIdentifierOption = "set-identifier"
	// ValueOption is the per-color suffix for the record value: an IP
	// address for A and AAAA, a host name (the cluster's load balancer) for
	// CNAME.
	ValueOption = "value"
	// AliasOption is the per-color suffix for an alias target's DNS name,
	// used instead of ValueOption.
	AliasOption = "alias"
	// AliasZoneOption is the per-color suffix for the alias target's hosted
	// zone ID (e.g. the load balancer's canonical hosted zone).
	AliasZoneOption = "alias-zone"
	// EvaluateHealthOption is the per-color suffix for the alias target's
	// EvaluateTargetHealth flag (true or false, default false).
	EvaluateHealthOption = "evaluate-health"
)

// Defaults for the optional settings.
const (
	DefaultType         = "CNAME"
	DefaultTTL          = 60
	DefaultSyncTimeout  = 2 * time.Minute
	DefaultPollInterval = time.Second
)

var colorSuffixes = []string{SetIdentifierOption, ValueOption, AliasOption, AliasZoneOption, EvaluateHealthOption}

// ColorOption returns the option key of suffix for color, e.g.
// ColorOption("blue", SetIdentifierOption) is "blue.set-identifier".
func ColorOption(color, suffix string) string { return color + "." + suffix }

// Config is the parsed form of a Target's options.
type Config struct {
	// Name is the record name as a fully qualified, lower-case domain name
	// with the trailing dot ("app.example.com.").
	Name string
	// Zone is the bare hosted zone ID.
	Zone string
	// Type is A, AAAA or CNAME.
	Type string
	// TTL is written on non-alias record sets.
	TTL int64
	// Records holds the desired record set of each color.
	Records map[string]Record
	// SyncTimeout bounds the wait for INSYNC; PollInterval paces it.
	SyncTimeout, PollInterval time.Duration
}

// Record is one color's weighted record set, less its weight.
type Record struct {
	SetIdentifier string
	// Value is the record value; empty when Alias is set.
	Value string
	// Alias is the alias target; nil for a plain record.
	Alias *Alias
}

// Alias is an alias target.
type Alias struct {
	DNSName              string
	HostedZoneID         string
	EvaluateTargetHealth bool
}

// Colors returns the configured colors, sorted.
func (c Config) Colors() []string {
	out := make([]string, 0, len(c.Records))
	for color := range c.Records {
		out = append(out, color)
	}
	slices.Sort(out)
	return out
}

// color returns the color whose set identifier is id.
func (c Config) color(id string) (string, bool) {
	for color, r := range c.Records {
		if r.SetIdentifier == id {
			return color, true
		}
	}
	return "", false
}

// String renders the record set as "app.example.com CNAME".
func (c Config) String() string { return strings.TrimSuffix(c.Name, ".") + " " + c.Type }

// ParseOptions reads and validates t's options. It reports every problem at
// once, each naming the option and how to fix it.
func ParseOptions(t traffic.Target) (Config, error) {
	p := parser{o: t.Options}
	cfg := Config{
		Name:         FQDN(t.Name),
		Zone:         strings.TrimPrefix(p.get(ZoneOption), "/hostedzone/"),
		Type:         strings.ToUpper(p.getOr(TypeOption, DefaultType)),
		SyncTimeout:  p.duration(SyncTimeoutOption, DefaultSyncTimeout),
		PollInterval: p.duration(PollIntervalOption, DefaultPollInterval),
		Records:      map[string]Record{},
	}
	if strings.TrimSuffix(cfg.Name, ".") == "" {
		p.errf("the target has no record name: set it to the DNS name to shift, e.g. app.example.com")
	}
	if cfg.Zone == "" {
		p.errf("option %q is missing: set it to the ID of the hosted zone holding %s, e.g. Z0123456789ABCDEFGHIJ", ZoneOption, t.Name)
	}
	switch cfg.Type {
	case "A", "AAAA", "CNAME":
	default:
		p.errf("option %q is %q: want A, AAAA or CNAME", TypeOption, p.o[TypeOption])
	}
	cfg.TTL = p.ttl()
	for _, color := range p.colors() {
		cfg.Records[color] = p.record(color, cfg.Type)
	}
	if len(cfg.Records) < 2 {
		p.errf("%d color(s) configured, want two: set %q and %q (or %q) for each color, e.g. blue and green",
			len(cfg.Records), ColorOption("<color>", SetIdentifierOption), ColorOption("<color>", ValueOption), ColorOption("<color>", AliasOption))
	}
	ids := map[string]string{}
	for _, color := range cfg.Colors() {
		id := cfg.Records[color].SetIdentifier
		if other, dup := ids[id]; dup && id != "" {
			p.errf("colors %s and %s have the same set identifier %q: give each color its own", other, color, id)
		}
		ids[id] = color
	}
	allAlias := len(cfg.Records) > 0
	for _, r := range cfg.Records {
		allAlias = allAlias && r.Alias != nil
	}
	if _, set := p.o[TTLOption]; set && allAlias {
		p.errf("option %q is set but every color is an alias record, which takes its target's TTL: remove it", TTLOption)
	}
	if err := p.err(); err != nil {
		return Config{}, fmt.Errorf("route53 options for %s: %w", t.Name, err)
	}
	return cfg, nil
}

// FQDN returns name lower-cased with a trailing dot, the form Route 53
// lists names in.
func FQDN(name string) string {
	name = strings.ToLower(strings.TrimSpace(name))
	if !strings.HasSuffix(name, ".") {
		name += "."
	}
	return name
}

// parser collects option errors so that ParseOptions reports all of them.
type parser struct {
	o    map[string]string
	errs []error
}

func (p *parser) errf(format string, args ...any) {
	p.errs = append(p.errs, fmt.Errorf(format, args...))
}

func (p *parser) err() error { return errors.Join(p.errs...) }

func (p *parser) get(key string) string { return strings.TrimSpace(p.o[key]) }

func (p *parser) getOr(key, def string) string {
	if v := p.get(key); v != "" {
		return v
	}
	return def
}

func (p *parser) duration(key string, def time.Duration) time.Duration {
	v := p.get(key)
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		p.errf("option %q is %q: want a positive duration such as %s", key, v, def)
		return def
	}
	return d
}

func (p *parser) ttl() int64 {
	v := p.get(TTLOption)
	if v == "" {
		return DefaultTTL
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 || n > 2147483647 {
		p.errf("option %q is %q: want a whole number of seconds, e.g. %d", TTLOption, v, DefaultTTL)
		return DefaultTTL
	}
	return n
}

// colors finds the colors named by per-color options and reports keys that
// are neither global nor per-color options.
func (p *parser) colors() []string {
	seen := map[string]bool{}
	for key := range p.o {
		switch key {
		case ZoneOption, TypeOption, TTLOption, SyncTimeoutOption, PollIntervalOption:
			continue
		}
		color, suffix, ok := strings.Cut(key, ".")
		if !ok || color == "" || !slices.Contains(colorSuffixes, suffix) {
			p.errf("option %q is unknown: want one of %s, %s, %s, %s, %s, or <color>.{%s}", key,
				ZoneOption, TypeOption, TTLOption, SyncTimeoutOption, PollIntervalOption, strings.Join(colorSuffixes, ","))
			continue
		}
		seen[color] = true
	}
	out := make([]string, 0, len(seen))
	for c := range seen {
		out = append(out, c)
	}
	slices.Sort(out)
	return out
}

func (p *parser) record(color, typ string) Record {
	key := func(suffix string) string { return ColorOption(color, suffix) }
	r := Record{SetIdentifier: p.get(key(SetIdentifierOption)), Value: p.get(key(ValueOption))}
	if r.SetIdentifier == "" {
		p.errf("option %q is missing: set the set identifier of %s's weighted record set", key(SetIdentifierOption), color)
	} else if len(r.SetIdentifier) > 128 {
		p.errf("option %q is longer than Route 53's 128 characters", key(SetIdentifierOption))
	}
	alias, aliasZone := p.get(key(AliasOption)), p.get(key(AliasZoneOption))
	health := p.get(key(EvaluateHealthOption))
	switch {
	case r.Value != "" && alias != "":
		p.errf("options %q and %q are both set: a record set has a value or an alias target, remove one", key(ValueOption), key(AliasOption))
	case r.Value == "" && alias == "":
		p.errf("option %q is missing: set it to %s's %s value, or set %q and %q for an alias record",
			key(ValueOption), color, typ, key(AliasOption), key(AliasZoneOption))
	case alias != "":
		r.Alias = &Alias{DNSName: FQDN(alias), HostedZoneID: strings.TrimPrefix(aliasZone, "/hostedzone/")}
		if aliasZone == "" {
			p.errf("option %q is missing: set it to the hosted zone ID of the alias target %s (for a load balancer, its canonical hosted zone ID)", key(AliasZoneOption), alias)
		}
		if health != "" {
			b, err := strconv.ParseBool(health)
			if err != nil {
				p.errf("option %q is %q: want true or false", key(EvaluateHealthOption), health)
			}
			r.Alias.EvaluateTargetHealth = b
		}
	default:
		p.checkValue(key(ValueOption), typ, r.Value)
	}
	if r.Alias == nil && (aliasZone != "" || health != "") {
		p.errf("options %q and %q apply to alias records only: set %q or remove them", key(AliasZoneOption), key(EvaluateHealthOption), key(AliasOption))
	}
	return r
}

func (p *parser) checkValue(key, typ, v string) {
	addr, err := netip.ParseAddr(v)
	switch {
	case typ == "A" && (err != nil || !addr.Is4()):
		p.errf("option %q is %q: an A record's value is an IPv4 address", key, v)
	case typ == "AAAA" && (err != nil || !addr.Is6()):
		p.errf("option %q is %q: an AAAA record's value is an IPv6 address", key, v)
	case typ == "CNAME" && (err == nil || strings.ContainsAny(v, " ,")):
		p.errf("option %q is %q: a CNAME record's value is one host name, e.g. the cluster's load balancer DNS name", key, v)
	}
}
