package preflight

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	r53sdk "github.com/aws/aws-sdk-go-v2/service/route53"
	r53types "github.com/aws/aws-sdk-go-v2/service/route53/types"

	"github.com/bluegreen/bluegreen/internal/awscluster"
)

// checkRecordTTL: resolvers keep an answer for its TTL, so a weight shift
// takes effect only as fast as the records' TTL allows, and a rollback no
// faster. Every record set of each record must have TTL ≤ MaxTTL.
func checkRecordTTL(ctx context.Context, p *probe) Result {
	if len(p.in.Records) == 0 {
		return Result{Status: Pass, Detail: "no records to shift"}
	}
	if p.in.AWS == nil || p.in.AWS.Route53 == nil {
		return errorResult(errNoClient("Route 53"))
	}
	var seen, high, missing []string
	var worst int64
	for _, rec := range p.in.Records {
		sets, err := listRecordSets(ctx, p.in.AWS.Route53, rec)
		if err != nil {
			return errorResult(err)
		}
		if len(sets) == 0 && len(rec.SetIdentifiers) == 0 {
			missing = append(missing, recordString(rec))
		}
		for _, id := range rec.SetIdentifiers {
			if !slices.ContainsFunc(sets, func(rs r53types.ResourceRecordSet) bool { return aws.ToString(rs.SetIdentifier) == id }) {
				missing = append(missing, fmt.Sprintf("%s (%s)", recordString(rec), id))
			}
		}
		for _, rs := range sets {
			what := recordString(rec)
			if id := aws.ToString(rs.SetIdentifier); id != "" {
				what += " (" + id + ")"
			}
			if rs.TTL == nil {
				seen = append(seen, what+" alias, TTL of its target")
				continue
			}
			ttl := *rs.TTL
			seen = append(seen, what+" TTL "+strconv.FormatInt(ttl, 10))
			if ttl > p.in.MaxTTL {
				high = append(high, what+" has TTL "+strconv.FormatInt(ttl, 10))
				worst = max(worst, ttl)
			}
		}
	}
	if len(high) > 0 {
		return Result{Status: Fail,
			Detail: fmt.Sprintf("%s; the limit is %d s", strings.Join(high, ", "), p.in.MaxTTL),
			Hint: fmt.Sprintf("lower the TTL to %d s (an UPSERT of each record set), then wait out the old TTL (%d s) before the first shift, so that resolvers no longer cache the old answer",
				p.in.MaxTTL, worst)}
	}
	if len(missing) > 0 {
		// A shift reads the weights back before writing them, and the
		// first one would find nothing to read, after every hand-off: so
		// the records must exist, at 100/0, before anything moves.
		return Result{Status: Fail,
			Detail: fmt.Sprintf("no record set yet for %s; found %s", strings.Join(missing, ", "), orNone(strings.Join(seen, ", "))),
			Hint: "create each weighted record set before the migration, the source's at weight 100 and the target's at weight 0 " +
				"(an UPSERT with its set identifier), or correct the record names, types and set identifiers in dns.records"}
	}
	return Result{Status: Pass, Detail: strings.Join(seen, ", ")}
}

func recordString(r Record) string { return fqdn(r.Name) + " " + strings.ToUpper(r.Type) }

// listRecordSets pages through the zone from the record's name and type;
// Route 53 lists in name and type order, so the first record set of another
// name or type ends the search.
func listRecordSets(ctx context.Context, api awscluster.Route53, rec Record) ([]r53types.ResourceRecordSet, error) {
	name, typ := fqdn(rec.Name), strings.ToUpper(rec.Type)
	zone := strings.TrimPrefix(rec.ZoneID, "/hostedzone/")
	in := &r53sdk.ListResourceRecordSetsInput{HostedZoneId: aws.String(zone), StartRecordName: aws.String(name), StartRecordType: r53types.RRType(typ)}
	var out []r53types.ResourceRecordSet
	for {
		page, err := api.ListResourceRecordSets(ctx, in)
		if err != nil {
			return nil, apiError("route53:ListResourceRecordSets", name+" "+typ+" in "+zone, err)
		}
		for _, rs := range page.ResourceRecordSets {
			if fqdn(unescapeName(aws.ToString(rs.Name))) != name || string(rs.Type) != typ {
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

// fqdn lower-cases a DNS name and ends it with a dot, as Route 53 returns
// names.
func fqdn(name string) string {
	name = strings.ToLower(strings.TrimSpace(name))
	if !strings.HasSuffix(name, ".") {
		name += "."
	}
	return name
}

// unescapeName undoes Route 53's octal escapes (\052 for *) in names.
func unescapeName(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
