package cli

import (
	"fmt"
	"strconv"

	"github.com/bluegreen/bluegreen/internal/plan"
	"github.com/bluegreen/bluegreen/internal/traffic"
	"github.com/bluegreen/bluegreen/internal/traffic/externaldns"
	"github.com/bluegreen/bluegreen/internal/traffic/route53"
)

// router builds the spec's weighted-DNS router and one target per record,
// and validates every target's options before anything is written.
func (s *migrateSession) router() (traffic.Router, []traffic.Target, error) {
	d := s.m.DNS
	r, err := traffic.New(d.Router, traffic.Deps{
		Route53:  s.aws.Route53,
		Clusters: map[string]any{string(plan.Blue): s.src.Kube, string(plan.Green): s.dst.Kube},
	})
	if err != nil {
		return nil, nil, fmt.Errorf("%w: dns.router: %w", plan.ErrInvalid, err)
	}
	var targets []traffic.Target
	for i, rec := range d.Records {
		t := recordTarget(d, rec)
		var perr error
		if d.Router == externaldns.Name {
			_, perr = externaldns.ParseOptions(t)
		} else {
			_, perr = route53.ParseOptions(t)
		}
		if perr != nil {
			return nil, nil, fmt.Errorf("%w: dns.records[%d] %s: %w", plan.ErrInvalid, i, rec.Name, perr)
		}
		targets = append(targets, t)
	}
	return r, targets, nil
}

// recordTarget maps a spec record onto the router's options.
func recordTarget(d plan.DNS, rec plan.Record) traffic.Target {
	opts := map[string]string{}
	colors := map[plan.Color]plan.RecordTarget{plan.Blue: rec.Blue, plan.Green: rec.Green}
	if d.Router == externaldns.Name {
		for c, rt := range colors {
			opts[externaldns.ColorOption(string(c), externaldns.ObjectOption)] = rt.Object
			opts[externaldns.ColorOption(string(c), externaldns.SetIdentifierOption)] = rt.SetIdentifier
		}
		return traffic.Target{Name: rec.Name, Options: opts}
	}
	opts[route53.ZoneOption] = d.ZoneID
	opts[route53.TypeOption] = rec.Type
	opts[route53.SyncTimeoutOption] = d.SyncTimeout.String()
	opts[route53.PollIntervalOption] = "250ms"
	alias := false
	for c, rt := range colors {
		opts[route53.ColorOption(string(c), route53.SetIdentifierOption)] = rt.SetIdentifier
		if rt.Alias != "" {
			alias = true
			opts[route53.ColorOption(string(c), route53.AliasOption)] = rt.Alias
			opts[route53.ColorOption(string(c), route53.AliasZoneOption)] = rt.AliasZone
		} else {
			opts[route53.ColorOption(string(c), route53.ValueOption)] = rt.Value
		}
	}
	if !alias {
		opts[route53.TTLOption] = strconv.FormatInt(rec.TTL, 10)
	}
	return traffic.Target{Name: rec.Name, Options: opts}
}
