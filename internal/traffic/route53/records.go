package route53

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdk "github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/route53/types"

	"github.com/bluegreen/bluegreen/internal/traffic"
)

// RecordState is one record set of the target's name and type as Route 53
// holds it, for drift reports.
type RecordState struct {
	// Color owns SetIdentifier; empty for a record set no color is
	// configured with.
	Color string
	// SetIdentifier is empty for a simple (non-weighted) record set.
	SetIdentifier string
	// Exists is false when a configured color has no record set.
	Exists bool
	// Weight is nil when the record set is not weighted.
	Weight *int64
	// Values are the record values of a plain record set.
	Values []string
	// Alias is the alias target of an alias record set.
	Alias *Alias
	// TTL is nil for an alias record set.
	TTL *int64
}

// String renders the state on one line, e.g.
// `green set-identifier="cluster-b" weight=10 value=b.elb.amazonaws.com ttl=60`.
func (s RecordState) String() string {
	var b strings.Builder
	b.WriteString(orDefault(s.Color, "(unmanaged)"))
	fmt.Fprintf(&b, " set-identifier=%q", s.SetIdentifier)
	if !s.Exists {
		b.WriteString(" missing")
		return b.String()
	}
	if s.Weight != nil {
		fmt.Fprintf(&b, " weight=%d", *s.Weight)
	} else {
		b.WriteString(" not-weighted")
	}
	if s.Alias != nil {
		fmt.Fprintf(&b, " alias=%s alias-zone=%s evaluate-health=%t", s.Alias.DNSName, s.Alias.HostedZoneID, s.Alias.EvaluateTargetHealth)
	}
	if len(s.Values) > 0 {
		b.WriteString(" value=" + strings.Join(s.Values, ","))
	}
	if s.TTL != nil {
		b.WriteString(" ttl=" + strconv.FormatInt(*s.TTL, 10))
	}
	return b.String()
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// Records returns the record sets of the target's name and type: one per
// configured color, in color order (Exists false when missing), then any
// other record set of that name and type. Unlike Observe it does not fail on
// what it finds, so a caller can print what differs from the split it last
// wrote.
func (r *Router) Records(ctx context.Context, t traffic.Target) ([]RecordState, error) {
	cfg, err := r.config(t)
	if err != nil {
		return nil, err
	}
	return r.records(ctx, cfg)
}

func (r *Router) records(ctx context.Context, cfg Config) ([]RecordState, error) {
	found, err := r.list(ctx, cfg)
	if err != nil {
		return nil, err
	}
	var out, other []RecordState
	for _, color := range cfg.Colors() {
		id := cfg.Records[color].SetIdentifier
		i := slices.IndexFunc(found, func(rs types.ResourceRecordSet) bool { return aws.ToString(rs.SetIdentifier) == id })
		if i < 0 {
			out = append(out, RecordState{Color: color, SetIdentifier: id})
			continue
		}
		out = append(out, state(color, found[i]))
	}
	for _, rs := range found {
		if _, managed := cfg.color(aws.ToString(rs.SetIdentifier)); !managed {
			other = append(other, state("", rs))
		}
	}
	// A simple record set first: it is the first thing to fix.
	slices.SortStableFunc(other, func(a, b RecordState) int { return strings.Compare(a.SetIdentifier, b.SetIdentifier) })
	return append(other, out...), nil
}

func state(color string, rs types.ResourceRecordSet) RecordState {
	s := RecordState{Color: color, SetIdentifier: aws.ToString(rs.SetIdentifier), Exists: true, Weight: rs.Weight, TTL: rs.TTL}
	for _, v := range rs.ResourceRecords {
		s.Values = append(s.Values, aws.ToString(v.Value))
	}
	if a := rs.AliasTarget; a != nil {
		s.Alias = &Alias{DNSName: aws.ToString(a.DNSName), HostedZoneID: aws.ToString(a.HostedZoneId), EvaluateTargetHealth: a.EvaluateTargetHealth}
	}
	return s
}

// list pages through the zone from the target's name and type and returns
// the record sets of exactly that name and type. Route 53 lists in name,
// type, set identifier order, so the first record set of another name or
// type ends the search.
func (r *Router) list(ctx context.Context, cfg Config) ([]types.ResourceRecordSet, error) {
	in := &sdk.ListResourceRecordSetsInput{
		HostedZoneId: aws.String(cfg.Zone), StartRecordName: aws.String(cfg.Name), StartRecordType: types.RRType(cfg.Type),
	}
	var out []types.ResourceRecordSet
	for {
		page, err := r.API.ListResourceRecordSets(ctx, in)
		if err != nil {
			return nil, apiErr(fmt.Errorf("list record sets %s in hosted zone %s: %w", cfg, cfg.Zone, err))
		}
		for _, rs := range page.ResourceRecordSets {
			if unescape(aws.ToString(rs.Name)) != cfg.Name || string(rs.Type) != cfg.Type {
				return out, nil
			}
			out = append(out, rs)
		}
		if !page.IsTruncated {
			return out, nil
		}
		in.StartRecordName, in.StartRecordType, in.StartRecordIdentifier = page.NextRecordName, page.NextRecordType, page.NextRecordIdentifier
	}
}

// unescape turns a listed name into FQDN form: Route 53 returns characters
// outside [a-z0-9-_.] as octal escapes, e.g. "*" as `\052`.
func unescape(name string) string {
	var b strings.Builder
	for i := 0; i < len(name); i++ {
		if name[i] == '\\' && i+3 < len(name) {
			if n, err := strconv.ParseUint(name[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(name[i])
	}
	return FQDN(b.String())
}
