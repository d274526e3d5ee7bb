package awsfake

import "fmt"

// Record seeds one Route 53 record set.
type Record struct {
	// Name is the record name, e.g. "app.example.com".
	Name string
	// Type is the record type, e.g. "A" or "CNAME".
	Type string
	// TTL is the time to live in seconds; ignored for alias records.
	TTL int64
	// Values are the record values; empty for alias records.
	Values []string
	// SetIdentifier and Weight make a weighted record; both or neither.
	SetIdentifier string
	// Weight is the record's weight (0–255) among the set's records.
	Weight *int64
	// Alias, when set, makes an alias record (no TTL, no values).
	Alias *Alias
}

// Alias is the target of an alias record.
type Alias struct {
	// DNSName is the target's DNS name, e.g. a load balancer's.
	DNSName string
	// HostedZoneID is the target's hosted zone, e.g. a load balancer's
	// CanonicalHostedZoneId.
	HostedZoneID string
	// EvaluateTargetHealth is the alias's EvaluateTargetHealth flag.
	EvaluateTargetHealth bool
}

// AddRecords creates record sets in the zone as one CREATE change batch,
// with the same validation as ChangeResourceRecordSets; nothing is created
// if any record is invalid.
func (s *Server) AddRecords(zoneID string, records ...Record) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	z, zerr := s.zone(zoneID)
	if zerr != nil {
		return fmt.Errorf("add records to zone %s: %w", zoneID, zerr)
	}
	req := changeBatchRequest{Comment: "awsfake seed"}
	for _, r := range records {
		x := rrsetXML{Name: r.Name, Type: r.Type, SetIdentifier: r.SetIdentifier, Weight: r.Weight}
		if r.Alias != nil {
			x.AliasTarget = &aliasXML{DNSName: r.Alias.DNSName, HostedZoneID: r.Alias.HostedZoneID, EvaluateTargetHealth: r.Alias.EvaluateTargetHealth}
		} else {
			ttl := r.TTL
			x.TTL = &ttl
		}
		for _, v := range r.Values {
			x.Records = append(x.Records, rrValueXML{Value: v})
		}
		req.Changes = append(req.Changes, changeXML{Action: "CREATE", RRSet: x})
	}
	if _, err := s.applyChangeBatchLocked(z, req); err != nil {
		return fmt.Errorf("add records to zone %s: %w", zoneID, err)
	}
	return nil
}
