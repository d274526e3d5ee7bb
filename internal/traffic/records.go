package traffic

import (
	"fmt"
	"time"

	"github.com/bluegreen/bluegreen/internal/spec"
)

// WeightedRecord is what every weighted-DNS router's record spec shares;
// each router adds how a cluster's record set is written. Blue is the
// source cluster, green the target.
type WeightedRecord struct {
	Name string `json:"name"`
	// Type is A, AAAA or CNAME (default CNAME).
	Type string `json:"type,omitempty"`
	// TTL is the record sets' TTL in seconds (default 60, none for aliases).
	TTL int64 `json:"ttl,omitempty"`
}

// RecordSpec is a weighted record with each cluster's part, of a type
// the router defines (a value or alias, an annotated object).
type RecordSpec[S any] struct {
	WeightedRecord
	Blue  S `json:"blue"`
	Green S `json:"green"`
}

// DefaultRecordTTL is the TTL of a weighted record set that names none.
const DefaultRecordTTL = 60

// AliasSettle is how long an alias record to a load balancer is cached:
// it takes the TTL of its target, 60 s for an ELB.
const AliasSettle = 60 * time.Second

// CheckWeightedRecords validates the shared part of a "dns" section's
// records: at least one, DNS names, types, and two distinct set
// identifiers each (ids[i] holds record i's blue and green identifiers).
// Errors name the field as the spec writes it.
func CheckWeightedRecords(recs []WeightedRecord, ids [][2]string) error {
	if len(recs) == 0 {
		return fmt.Errorf("dns.records is empty: name at least one weighted record that sends users to the clusters")
	}
	for i, r := range recs {
		if !spec.IsDNSName(r.Name) {
			return fmt.Errorf("dns.records[%d].name %q is not a DNS name", i, r.Name)
		}
		switch r.Type {
		case "A", "AAAA", "CNAME":
		default:
			return fmt.Errorf("dns.records[%d] %s type %q: want A, AAAA or CNAME", i, r.Name, r.Type)
		}
		if b, g := ids[i][0], ids[i][1]; b == "" || g == "" || b == g {
			return fmt.Errorf("dns.records[%d] %s: blue.setIdentifier and green.setIdentifier are required and must differ", i, r.Name)
		}
	}
	return nil
}

// Defaults fills the record's type (CNAME) and, unless alias, its TTL.
func (r *WeightedRecord) Defaults(alias bool) {
	if r.Type == "" {
		r.Type = "CNAME"
	}
	if r.TTL == 0 && !alias {
		r.TTL = DefaultRecordTTL
	}
}

// Settle is how long resolvers may keep the record's old answer.
func (r WeightedRecord) Settle(alias bool) time.Duration {
	d := time.Duration(r.TTL) * time.Second
	if alias {
		d = max(d, AliasSettle)
	}
	return d
}
