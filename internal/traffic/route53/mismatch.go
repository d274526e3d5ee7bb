package route53

import (
	"context"
	"fmt"
	"strings"

	"github.com/bluegreen/bluegreen/internal/traffic"
)

// Mismatches implements traffic.Verifier. Shift UPSERTs whole record sets,
// value or alias target included, so a typo in a color's configured value
// would silently replace production's record at the first shift. It
// reports, one line per record set, where the live record sets differ from
// the configuration in anything Shift writes but the weight: a color's
// record set missing, a value or an alias target (name, zone, evaluate
// health) other than configured, a value where an alias is configured or
// the reverse. Names compare case-insensitively and without the trailing
// dot, as DNS does.
func (r *Router) Mismatches(ctx context.Context, t traffic.Target) ([]string, error) {
	cfg, err := r.config(t)
	if err != nil {
		return nil, err
	}
	states, err := r.records(ctx, cfg)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, s := range states {
		if s.Color == "" {
			continue // not written by Shift; Observe reports it
		}
		if d := cfg.Records[s.Color].differs(cfg.Type, s); d != "" {
			out = append(out, fmt.Sprintf("%s %s set-identifier %q: %s", cfg, s.Color, s.SetIdentifier, d))
		}
	}
	return out, nil
}

// differs says how the live state s differs from want, or "".
func (want Record) differs(typ string, s RecordState) string {
	switch {
	case !s.Exists:
		return "missing in the hosted zone"
	case want.Alias != nil && s.Alias == nil:
		return fmt.Sprintf("live record has value %s, the spec an alias of %s", strings.Join(s.Values, ","), want.Alias.DNSName)
	case want.Alias == nil && s.Alias != nil:
		return fmt.Sprintf("live record is an alias of %s, the spec has value %s", s.Alias.DNSName, want.Value)
	case want.Alias != nil:
		w, g := *want.Alias, *s.Alias
		if !sameHost(w.DNSName, g.DNSName) || !strings.EqualFold(w.HostedZoneID, strings.TrimPrefix(g.HostedZoneID, "/hostedzone/")) ||
			w.EvaluateTargetHealth != g.EvaluateTargetHealth {
			return fmt.Sprintf("live alias %s (zone %s, evaluate-health %t), the spec %s (zone %s, evaluate-health %t)",
				g.DNSName, g.HostedZoneID, g.EvaluateTargetHealth, w.DNSName, w.HostedZoneID, w.EvaluateTargetHealth)
		}
	case len(s.Values) != 1 || !sameValue(typ, want.Value, s.Values[0]):
		return fmt.Sprintf("live value %s, the spec %s", orDefault(strings.Join(s.Values, ","), "(none)"), want.Value)
	}
	return ""
}

func sameValue(typ, a, b string) bool {
	if typ == "CNAME" {
		return sameHost(a, b)
	}
	return a == b
}

func sameHost(a, b string) bool { return FQDN(a) == FQDN(b) }
