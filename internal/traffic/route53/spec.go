package route53

import (
	"fmt"
	"strconv"

	"github.com/bluegreen/bluegreen/internal/spec"
	"github.com/bluegreen/bluegreen/internal/traffic"
)

// Section is the cluster scope's "dns" section for this router.
type Section struct {
	Router string `json:"router,omitempty"`
	// ZoneID is the hosted zone of the records.
	ZoneID  string       `json:"zoneID"`
	Records []SpecRecord `json:"records"`
	// SyncTimeout bounds the wait for a change to be INSYNC (default 2m).
	SyncTimeout spec.Duration `json:"syncTimeout,omitempty"`
}

// SpecRecord is one weighted record with a record set per cluster.
type SpecRecord = traffic.RecordSpec[SpecSet]

// SpecSet is one cluster's weighted record set.
type SpecSet struct {
	SetIdentifier string `json:"setIdentifier"`
	// Value is the record value, e.g. the cluster's load balancer hostname.
	Value string `json:"value,omitempty"`
	// Alias and AliasZone make the record set an alias (e.g. of an ALB).
	Alias     string `json:"alias,omitempty"`
	AliasZone string `json:"aliasZone,omitempty"`
}

// shiftPoll is how often a migration's shift asks for INSYNC.
const shiftPoll = "250ms"

// records parses, defaults and validates a "dns" section into one target
// per record, with the options ParseOptions reads.
func records(section []byte) ([]traffic.Target, error) {
	var s Section
	if err := spec.DecodeStrict("dns", section, &s); err != nil {
		return nil, err
	}
	if s.ZoneID == "" {
		return nil, fmt.Errorf("dns.zoneID is required for the route53 router: the hosted zone ID of the records, e.g. Z0123456789ABC")
	}
	if s.SyncTimeout == 0 {
		s.SyncTimeout = spec.Duration(DefaultSyncTimeout)
	}
	shared := make([]traffic.WeightedRecord, len(s.Records))
	ids := make([][2]string, len(s.Records))
	for i := range s.Records {
		r := &s.Records[i]
		r.Defaults(r.Blue.Alias != "")
		shared[i], ids[i] = r.WeightedRecord, [2]string{r.Blue.SetIdentifier, r.Green.SetIdentifier}
	}
	if err := traffic.CheckWeightedRecords(shared, ids); err != nil {
		return nil, err
	}
	out := make([]traffic.Target, 0, len(s.Records))
	for i, r := range s.Records {
		t := target(r, s)
		if _, err := ParseOptions(t); err != nil {
			return nil, fmt.Errorf("dns.records[%d] %s: %w", i, r.Name, err)
		}
		out = append(out, t)
	}
	return out, nil
}

func target(r SpecRecord, s Section) traffic.Target {
	opts := map[string]string{
		ZoneOption:         s.ZoneID,
		TypeOption:         r.Type,
		SyncTimeoutOption:  s.SyncTimeout.String(),
		PollIntervalOption: shiftPoll,
	}
	alias := false
	carriers := map[string]string{}
	for color, set := range map[string]SpecSet{"blue": r.Blue, "green": r.Green} {
		carriers[color] = set.SetIdentifier
		opts[ColorOption(color, SetIdentifierOption)] = set.SetIdentifier
		if set.Alias != "" {
			alias = true
			opts[ColorOption(color, AliasOption)] = set.Alias
			opts[ColorOption(color, AliasZoneOption)] = set.AliasZone
		}
		if set.Value != "" || set.Alias == "" { // both set: ParseOptions refuses
			opts[ColorOption(color, ValueOption)] = set.Value
		}
	}
	if !alias {
		opts[TTLOption] = strconv.FormatInt(r.TTL, 10)
	}
	return traffic.Target{Name: r.Name, Options: opts, Carriers: carriers, Settle: r.Settle(alias)}
}

// RecordSet implements traffic.RecordSetter.
func (r *Router) RecordSet(t traffic.Target) (traffic.RecordSet, error) {
	cfg, err := ParseOptions(t)
	if err != nil {
		return traffic.RecordSet{}, err
	}
	rs := traffic.RecordSet{ZoneID: cfg.Zone, Name: t.Name, Type: cfg.Type}
	for _, color := range cfg.Colors() {
		rs.SetIdentifiers = append(rs.SetIdentifiers, cfg.Records[color].SetIdentifier)
	}
	return rs, nil
}
