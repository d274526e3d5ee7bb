package externaldns

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/bluegreen/bluegreen/internal/traffic"
)

// Per-color Target options, written "<color>.<suffix>" (see ColorOption),
// for example "green.object".
const (
	// ObjectOption is the per-color suffix naming the object that carries
	// the annotations in that color's cluster: "service/<namespace>/<name>"
	// or "ingress/<namespace>/<name>".
	ObjectOption = "object"
	// SetIdentifierOption is the per-color suffix for the Route 53 set
	// identifier written into the object's set-identifier annotation.
	SetIdentifierOption = "set-identifier"
)

// The external-dns annotations the router reads and writes.
const (
	HostnameAnnotation      = "external-dns.alpha.kubernetes.io/hostname"
	SetIdentifierAnnotation = "external-dns.alpha.kubernetes.io/set-identifier"
	WeightAnnotation        = "external-dns.alpha.kubernetes.io/aws-weight"
)

// ColorOption returns the option key of suffix for color, e.g.
// ColorOption("green", ObjectOption) is "green.object".
func ColorOption(color, suffix string) string { return color + "." + suffix }

// Kind is the kind of object carrying the annotations.
type Kind string

// The kinds external-dns reads weighted records from.
const (
	KindService Kind = "service"
	KindIngress Kind = "ingress"
)

// Object names a Service or an Ingress.
type Object struct {
	Kind      Kind
	Namespace string
	Name      string
}

// String renders the object as "service/<namespace>/<name>".
func (o Object) String() string { return string(o.Kind) + "/" + o.Namespace + "/" + o.Name }

// ParseObject parses "service/<namespace>/<name>" or
// "ingress/<namespace>/<name>".
func ParseObject(s string) (Object, error) {
	parts := strings.Split(strings.TrimSpace(s), "/")
	if len(parts) != 3 || (parts[0] != string(KindService) && parts[0] != string(KindIngress)) {
		return Object{}, fmt.Errorf("%q is not service/<namespace>/<name> or ingress/<namespace>/<name>", s)
	}
	o := Object{Kind: Kind(parts[0]), Namespace: parts[1], Name: parts[2]}
	if msgs := validation.IsDNS1123Label(o.Namespace); len(msgs) > 0 {
		return Object{}, fmt.Errorf("%q: namespace %q: %s", s, o.Namespace, strings.Join(msgs, "; "))
	}
	nameCheck := validation.IsDNS1123Subdomain
	if o.Kind == KindService {
		nameCheck = validation.IsDNS1035Label
	}
	if msgs := nameCheck(o.Name); len(msgs) > 0 {
		return Object{}, fmt.Errorf("%q: name %q: %s", s, o.Name, strings.Join(msgs, "; "))
	}
	return o, nil
}

// Config is the parsed form of a Target's options.
type Config struct {
	// Hostname is the record name, lower-case, without the trailing dot.
	Hostname string
	// Objects holds each color's object and set identifier.
	Objects map[string]ColorObject
}

// ColorObject is one color's annotated object.
type ColorObject struct {
	Object        Object
	SetIdentifier string
}

// Colors returns the configured colors, sorted.
func (c Config) Colors() []string {
	out := make([]string, 0, len(c.Objects))
	for color := range c.Objects {
		out = append(out, color)
	}
	slices.Sort(out)
	return out
}

// ParseOptions reads and validates t's options. It reports every problem at
// once, each naming the option and how to fix it.
func ParseOptions(t traffic.Target) (Config, error) {
	cfg := Config{Hostname: hostname(t.Name), Objects: map[string]ColorObject{}}
	var errs []error
	errf := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if cfg.Hostname == "" {
		errf("the target has no record name: set it to the DNS name to shift, e.g. app.example.com")
	}
	colors := map[string]bool{}
	for key := range t.Options {
		color, suffix, ok := strings.Cut(key, ".")
		if !ok || color == "" || (suffix != ObjectOption && suffix != SetIdentifierOption) {
			errf("option %q is unknown: want <color>.%s or <color>.%s", key, ObjectOption, SetIdentifierOption)
			continue
		}
		colors[color] = true
	}
	ids := map[string]string{}
	for _, color := range slices.Sorted(maps.Keys(colors)) {
		var co ColorObject
		objKey, idKey := ColorOption(color, ObjectOption), ColorOption(color, SetIdentifierOption)
		if v := strings.TrimSpace(t.Options[objKey]); v == "" {
			errf("option %q is missing: set it to service/<namespace>/<name> or ingress/<namespace>/<name> in %s's cluster", objKey, color)
		} else if o, err := ParseObject(v); err != nil {
			errf("option %q: %w", objKey, err)
		} else {
			co.Object = o
		}
		co.SetIdentifier = strings.TrimSpace(t.Options[idKey])
		switch {
		case co.SetIdentifier == "":
			errf("option %q is missing: set the set identifier of %s's weighted record set", idKey, color)
		case ids[co.SetIdentifier] != "":
			errf("colors %s and %s have the same set identifier %q: give each color its own", ids[co.SetIdentifier], color, co.SetIdentifier)
		default:
			ids[co.SetIdentifier] = color
		}
		cfg.Objects[color] = co
	}
	if len(cfg.Objects) < 2 {
		errf("%d color(s) configured, want two: set %q and %q for each color, e.g. blue and green",
			len(cfg.Objects), ColorOption("<color>", ObjectOption), ColorOption("<color>", SetIdentifierOption))
	}
	if err := errors.Join(errs...); err != nil {
		return Config{}, fmt.Errorf("external-dns options for %s: %w", t.Name, err)
	}
	return cfg, nil
}

// hostname normalizes a DNS name for comparison: lower-case, no spaces, no
// trailing dot.
func hostname(s string) string {
	return strings.TrimSuffix(strings.ToLower(strings.TrimSpace(s)), ".")
}

// hasHostname reports whether the comma-separated hostname annotation value
// v lists name.
func hasHostname(v, name string) bool {
	for h := range strings.SplitSeq(v, ",") {
		if hostname(h) == name {
			return true
		}
	}
	return false
}
