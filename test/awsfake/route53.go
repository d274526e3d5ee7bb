package awsfake

import (
	"encoding/xml"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

type r53State struct {
	zones   map[string]*hostedZone // bare ID ("Z...") -> zone
	changes map[string]*change     // bare ID ("C...") -> change
}

type hostedZone struct {
	id, name, callerRef, comment string
	private                      bool
	nameServers                  []string
	records                      map[rrKey]rrset
}

type rrKey struct{ name, typ, setID string }

// rrset is an immutable stored record set; updates replace it.
type rrset struct {
	key    rrKey
	weight *int64
	ttl    *int64
	values []string
	alias  *aliasXML
}

type change struct {
	id, status, comment string
	submitted, doneAt   time.Time
}

func (r *r53State) init() {
	r.zones = map[string]*hostedZone{}
	r.changes = map[string]*change{}
}

// AddHostedZone creates a public hosted zone (with its apex SOA and NS
// record sets, as Route 53 does) and returns its bare ID ("Z...").
func (s *Server) AddHostedZone(name string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addZoneLocked(name, "awsfake-"+randHex(16), "", false).id
}

func (s *Server) addZoneLocked(name, callerRef, comment string, private bool) *hostedZone {
	z := &hostedZone{
		id: "Z" + randUpper(20), name: normalizeName(name), callerRef: callerRef,
		comment: comment, private: private, records: map[rrKey]rrset{},
		nameServers: []string{"ns-1.awsdns-01.com.", "ns-2.awsdns-02.net.", "ns-3.awsdns-03.org.", "ns-4.awsdns-04.co.uk."},
	}
	nsTTL, soaTTL := int64(172800), int64(900)
	z.records[rrKey{z.name, "NS", ""}] = rrset{key: rrKey{z.name, "NS", ""}, ttl: &nsTTL, values: slices.Clone(z.nameServers)}
	z.records[rrKey{z.name, "SOA", ""}] = rrset{key: rrKey{z.name, "SOA", ""}, ttl: &soaTTL,
		values: []string{z.nameServers[0] + " awsdns-hostmaster.amazon.com. 1 7200 900 1209600 86400"}}
	s.r53.zones[z.id] = z
	return z
}

func (s *Server) newChangeLocked(comment string) *change {
	now := s.now()
	c := &change{id: "C" + randUpper(20), status: "PENDING", comment: comment, submitted: now, doneAt: now.Add(s.opts.ChangeSyncDelay)}
	s.r53.changes[c.id] = c
	return c
}

func (s *Server) advanceR53Locked(now time.Time) {
	for _, c := range s.r53.changes {
		if c.status == "PENDING" && !now.Before(c.doneAt) {
			c.status = "INSYNC"
		}
	}
}

func changeInfo(c *change, status string) changeInfoXML {
	if status == "" {
		status = c.status
	}
	return changeInfoXML{ID: "/change/" + c.id, Status: status, SubmittedAt: isoTime(c.submitted), Comment: c.comment}
}

func r53Errf(status int, code, format string, args ...any) *r53Error {
	return &r53Error{status: status, code: code, msg: fmt.Sprintf(format, args...)}
}

func (s *Server) serveRoute53(w http.ResponseWriter, r *http.Request) {
	reqID := newRequestID()
	parts := strings.Split(strings.Trim(strings.TrimPrefix(r.URL.Path, "/"+r53Version+"/"), "/"), "/")
	var body []byte
	if r.Method == http.MethodPost {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			writeR53Error(w, reqID, r53Errf(http.StatusBadRequest, "InvalidInput", "read body: %v", err))
			return
		}
		body = b
	}
	s.mu.Lock()
	s.advanceR53Locked(s.now())
	status, out, apiErr := s.routeR53(r, parts, body, reqID)
	s.mu.Unlock()
	if apiErr != nil {
		writeR53Error(w, reqID, apiErr)
		return
	}
	if hz, ok := out.(*createHostedZoneResponse); ok {
		w.Header().Set("Location", "https://route53.amazonaws.com/"+r53Version+hz.HostedZone.ID)
	}
	writeXML(w, status, reqID, out)
}

func (s *Server) routeR53(r *http.Request, parts []string, body []byte, reqID string) (int, any, *r53Error) {
	switch {
	case len(parts) == 1 && parts[0] == "hostedzone" && r.Method == http.MethodPost:
		return s.r53CreateHostedZone(body)
	case len(parts) == 2 && parts[0] == "hostedzone" && r.Method == http.MethodGet:
		z, err := s.zone(parts[1])
		if err != nil {
			return 0, nil, err
		}
		return http.StatusOK, &getHostedZoneResponse{HostedZone: zoneXML(z), NameServers: z.nameServers}, nil
	case len(parts) == 3 && parts[0] == "hostedzone" && parts[2] == "rrset" && r.Method == http.MethodGet:
		return s.r53ListRRSets(parts[1], r)
	case len(parts) == 3 && parts[0] == "hostedzone" && parts[2] == "rrset" && r.Method == http.MethodPost:
		return s.r53ChangeRRSets(parts[1], body)
	case len(parts) == 2 && parts[0] == "change" && r.Method == http.MethodGet:
		c, ok := s.r53.changes[parts[1]]
		if !ok {
			return 0, nil, r53Errf(http.StatusNotFound, "NoSuchChange", "A change with the specified change ID does not exist.")
		}
		return http.StatusOK, &changeInfoResponse{XMLName: xml.Name{Space: r53Namespace, Local: "GetChangeResponse"}, ChangeInfo: changeInfo(c, "")}, nil
	}
	return 0, nil, r53Errf(http.StatusNotFound, "InvalidInput", "awsfake: unsupported Route 53 request %s %s", r.Method, r.URL.Path)
}

func zoneXML(z *hostedZone) hostedZoneXML {
	return hostedZoneXML{ID: "/hostedzone/" + z.id, Name: escapeName(z.name), CallerReference: z.callerRef,
		Comment: z.comment, PrivateZone: z.private, ResourceRecordSetCount: int64(len(z.records))}
}

func (s *Server) zone(id string) (*hostedZone, *r53Error) {
	z, ok := s.r53.zones[strings.TrimPrefix(id, "/hostedzone/")]
	if !ok {
		return nil, r53Errf(http.StatusNotFound, "NoSuchHostedZone", "No hosted zone found with ID: %s", id)
	}
	return z, nil
}

func (s *Server) r53CreateHostedZone(body []byte) (int, any, *r53Error) {
	var req createHostedZoneRequest
	if err := xml.Unmarshal(body, &req); err != nil {
		return 0, nil, r53Errf(http.StatusBadRequest, "InvalidInput", "malformed request body: %v", err)
	}
	if req.Name == "" || req.CallerReference == "" {
		return 0, nil, r53Errf(http.StatusBadRequest, "InvalidInput", "Name and CallerReference are required")
	}
	for _, z := range s.r53.zones {
		if z.callerRef == req.CallerReference {
			return 0, nil, r53Errf(http.StatusConflict, "HostedZoneAlreadyExists",
				"A hosted zone has already been created with the specified caller reference.")
		}
	}
	z := s.addZoneLocked(req.Name, req.CallerReference, req.Comment, req.PrivateZone)
	c := s.newChangeLocked("")
	return http.StatusCreated, &createHostedZoneResponse{HostedZone: zoneXML(z), ChangeInfo: changeInfo(c, "PENDING"), NameServers: z.nameServers}, nil
}

func (s *Server) r53ListRRSets(zoneID string, r *http.Request) (int, any, *r53Error) {
	z, err := s.zone(zoneID)
	if err != nil {
		return 0, nil, err
	}
	q := r.URL.Query()
	maxItems := 300
	if m := q.Get("maxitems"); m != "" {
		n, perr := strconv.Atoi(m)
		if perr != nil || n < 1 {
			return 0, nil, r53Errf(http.StatusBadRequest, "InvalidInput", "Invalid maxitems %q", m)
		}
		maxItems = min(n, 300)
	}
	startName, startType, startID := q.Get("name"), q.Get("type"), q.Get("identifier")
	if startType != "" && startName == "" {
		return 0, nil, r53Errf(http.StatusBadRequest, "InvalidInput", "The input is not valid: a record type requires a record name")
	}
	keys := sortedKeys(z.records)
	if startName != "" {
		start := rrKey{name: normalizeName(startName), typ: startType, setID: startID}
		keys = slices.DeleteFunc(keys, func(k rrKey) bool { return rrKeyLess(k, start) })
	}
	out := &listRRSetsResponse{MaxItems: strconv.Itoa(maxItems), RRSets: []rrsetXML{}}
	for i, k := range keys {
		if i == maxItems {
			out.IsTruncated = true
			out.NextRecordName, out.NextRecordType, out.NextRecordIdentifier = escapeName(k.name), k.typ, k.setID
			break
		}
		out.RRSets = append(out.RRSets, rrsetToXML(z.records[k]))
	}
	return http.StatusOK, out, nil
}

func rrsetToXML(rs rrset) rrsetXML {
	x := rrsetXML{Name: escapeName(rs.key.name), Type: rs.key.typ, SetIdentifier: rs.key.setID, Weight: rs.weight, TTL: rs.ttl, AliasTarget: rs.alias}
	for _, v := range rs.values {
		x.Records = append(x.Records, rrValueXML{Value: v})
	}
	return x
}

// describe renders a record set the way Route 53 error messages do.
func (k rrKey) describe() string {
	if k.setID != "" {
		return fmt.Sprintf("[name='%s', type='%s', set-identifier='%s']", escapeName(k.name), k.typ, k.setID)
	}
	return fmt.Sprintf("[name='%s', type='%s']", escapeName(k.name), k.typ)
}

// parseChange performs Route 53's request (schema) validation of one
// change; failures are InvalidInput and reject the whole request.
func parseChange(i int, ch changeXML) (rrset, *r53Error) {
	x := ch.RRSet
	rs := rrset{key: rrKey{name: normalizeName(x.Name), typ: strings.ToUpper(x.Type), setID: x.SetIdentifier},
		weight: x.Weight, ttl: x.TTL, alias: x.AliasTarget}
	for _, v := range x.Records {
		rs.values = append(rs.values, v.Value)
	}
	where := fmt.Sprintf("Change with [Action=%s, Name=%s, Type=%s, SetIdentifier=%s]", ch.Action, x.Name, x.Type, orNull(x.SetIdentifier))
	bad := func(format string, args ...any) (rrset, *r53Error) {
		return rrset{}, r53Errf(http.StatusBadRequest, "InvalidInput", format, args...)
	}
	switch ch.Action {
	case "CREATE", "DELETE", "UPSERT":
	default:
		return bad("Invalid request: unknown action %q in change %d", ch.Action, i+1)
	}
	if x.Name == "" || x.Type == "" {
		return bad("Invalid request: Name and Type are required in change %d", i+1)
	}
	if x.Weight != nil && (*x.Weight < 0 || *x.Weight > 255) {
		return bad("1 validation error detected: Value '%d' at 'changeBatch.changes.%d.member.resourceRecordSet.weight' failed to satisfy constraint: Member must have value less than or equal to 255 and greater than or equal to 0", *x.Weight, i+1)
	}
	if x.Weight != nil && x.SetIdentifier == "" {
		return bad("Invalid request: Missing field 'SetIdentifier' in %s", where)
	}
	if x.SetIdentifier != "" && x.Weight == nil {
		return bad("Invalid request: Expected exactly one of [Weight, Region, Failover, GeoLocation, MultiValueAnswer, GeoProximityLocation, or CidrRoutingConfig], but found none in %s", where)
	}
	if x.AliasTarget == nil && (x.TTL == nil || len(x.Records) == 0) {
		return bad("Invalid request: Expected exactly one of [AliasTarget, all of [TTL, and ResourceRecords], or TrafficPolicyInstanceId], but found none in %s", where)
	}
	if x.AliasTarget != nil && (x.TTL != nil || len(x.Records) > 0) {
		return bad("Invalid request: Expected exactly one of [AliasTarget, all of [TTL, and ResourceRecords], or TrafficPolicyInstanceId], but found more than one in %s", where)
	}
	if x.TTL != nil && (*x.TTL < 0 || *x.TTL > 2147483647) {
		return bad("Invalid request: TTL out of range in %s", where)
	}
	return rs, nil
}

func orNull(s string) string {
	if s == "" {
		return "null"
	}
	return s
}

func sameRRSet(a, b rrset) bool {
	eqPtr := func(x, y *int64) bool { return (x == nil && y == nil) || (x != nil && y != nil && *x == *y) }
	if !eqPtr(a.weight, b.weight) || !eqPtr(a.ttl, b.ttl) {
		return false
	}
	if (a.alias == nil) != (b.alias == nil) || (a.alias != nil && (normalizeName(a.alias.DNSName) != normalizeName(b.alias.DNSName) ||
		a.alias.HostedZoneID != b.alias.HostedZoneID || a.alias.EvaluateTargetHealth != b.alias.EvaluateTargetHealth)) {
		return false
	}
	av, bv := slices.Clone(a.values), slices.Clone(b.values)
	slices.Sort(av)
	slices.Sort(bv)
	return slices.Equal(av, bv)
}

// r53ChangeRRSets applies a change batch atomically: every change is
// applied in order to a copy of the zone, the result is checked, and the
// copy replaces the zone's records only if there were no errors.
func (s *Server) r53ChangeRRSets(zoneID string, body []byte) (int, any, *r53Error) {
	z, err := s.zone(zoneID)
	if err != nil {
		return 0, nil, err
	}
	var req changeBatchRequest
	if uerr := xml.Unmarshal(body, &req); uerr != nil {
		return 0, nil, r53Errf(http.StatusBadRequest, "InvalidInput", "malformed request body: %v", uerr)
	}
	c, cerr := s.applyChangeBatchLocked(z, req)
	if cerr != nil {
		return 0, nil, cerr
	}
	return http.StatusOK, &changeInfoResponse{XMLName: xml.Name{Space: r53Namespace, Local: "ChangeResourceRecordSetsResponse"}, ChangeInfo: changeInfo(c, "PENDING")}, nil
}

// applyChangeBatchLocked validates and applies one change batch to z.
func (s *Server) applyChangeBatchLocked(z *hostedZone, req changeBatchRequest) (*change, *r53Error) {
	if len(req.Changes) == 0 {
		return nil, r53Errf(http.StatusBadRequest, "InvalidInput", "Invalid request: the change batch contains no changes")
	}
	sets := make([]rrset, len(req.Changes))
	for i, ch := range req.Changes {
		rs, perr := parseChange(i, ch)
		if perr != nil {
			return nil, perr
		}
		sets[i] = rs
	}
	work := maps.Clone(z.records)
	var msgs []string
	touched := map[string]bool{}
	for i, ch := range req.Changes {
		rs := sets[i]
		k := rs.key
		touched[k.name] = true
		if k.name != z.name && !strings.HasSuffix(k.name, "."+z.name) {
			msgs = append(msgs, fmt.Sprintf("RRSet with DNS name %s is not permitted in zone %s", escapeName(k.name), escapeName(z.name)))
			continue
		}
		cur, exists := work[k]
		switch ch.Action {
		case "CREATE":
			if exists {
				msgs = append(msgs, fmt.Sprintf("Tried to create resource record set %s but it already exists", k.describe()))
				continue
			}
			work[k] = rs
		case "UPSERT":
			work[k] = rs
		case "DELETE":
			if !exists {
				msgs = append(msgs, fmt.Sprintf("Tried to delete resource record set %s but it was not found", k.describe()))
				continue
			}
			if !sameRRSet(cur, rs) {
				msgs = append(msgs, fmt.Sprintf("Tried to delete resource record set %s but the values provided do not match the current values", k.describe()))
				continue
			}
			delete(work, k)
		}
	}
	msgs = append(msgs, checkZone(z, work, touched)...)
	if len(msgs) > 0 {
		return nil, &r53Error{status: http.StatusBadRequest, code: "InvalidChangeBatch", msg: "ChangeBatch errors occurred", messages: msgs}
	}
	z.records = work
	return s.newChangeLocked(req.Comment), nil
}

// checkZone validates the post-batch state of the names a batch touched.
func checkZone(z *hostedZone, work map[rrKey]rrset, touched map[string]bool) []string {
	type nameType struct{ name, typ string }
	groups := map[nameType][]rrset{}
	types := map[string]map[string]bool{}
	for k, rs := range work {
		if !touched[k.name] {
			continue
		}
		groups[nameType{k.name, k.typ}] = append(groups[nameType{k.name, k.typ}], rs)
		if types[k.name] == nil {
			types[k.name] = map[string]bool{}
		}
		types[k.name][k.typ] = true
	}
	var msgs []string
	for _, nt := range slices.SortedFunc(maps.Keys(groups), func(a, b nameType) int {
		return strings.Compare(a.name+" "+a.typ, b.name+" "+b.typ)
	}) {
		g := groups[nt]
		unweighted := slices.ContainsFunc(g, func(rs rrset) bool { return rs.key.setID == "" })
		if unweighted && len(g) > 1 {
			msgs = append(msgs, fmt.Sprintf("RRSet with DNS name %s, type %s cannot be created as a non-weighted set exists with the same name and type.", escapeName(nt.name), nt.typ))
		}
	}
	for _, name := range slices.Sorted(maps.Keys(types)) {
		if types[name]["CNAME"] && name == z.name {
			msgs = append(msgs, fmt.Sprintf("RRSet of type CNAME with DNS name %s is not permitted at apex in zone %s", escapeName(name), escapeName(z.name)))
		} else if types[name]["CNAME"] && len(types[name]) > 1 {
			msgs = append(msgs, fmt.Sprintf("RRSet of type CNAME with DNS name %s is not permitted as it conflicts with other records with the same DNS name", escapeName(name)))
		}
	}
	if touched[z.name] {
		if !types[z.name]["SOA"] {
			msgs = append(msgs, "A HostedZone must contain exactly one SOA record.")
		}
		if !types[z.name]["NS"] {
			msgs = append(msgs, "A HostedZone must contain at least one NS record for the zone itself.")
		}
	}
	return msgs
}
