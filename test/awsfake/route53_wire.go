package awsfake

import (
	"encoding/xml"
	"net/http"
	"sort"
	"strings"
)

// This file holds the Route 53 REST-XML encoding: request and response
// shapes matching the aws-sdk-go-v2 route53 (de)serializers.

const (
	r53Version   = "2013-04-01"
	r53Namespace = "https://route53.amazonaws.com/doc/2013-04-01/"
)

type aliasXML struct {
	HostedZoneID         string `xml:"HostedZoneId"`
	DNSName              string `xml:"DNSName"`
	EvaluateTargetHealth bool   `xml:"EvaluateTargetHealth"`
}

type rrValueXML struct {
	Value string `xml:"Value"`
}

type rrsetXML struct {
	Name          string       `xml:"Name"`
	Type          string       `xml:"Type"`
	SetIdentifier string       `xml:"SetIdentifier,omitempty"`
	Weight        *int64       `xml:"Weight,omitempty"`
	TTL           *int64       `xml:"TTL,omitempty"`
	Records       []rrValueXML `xml:"ResourceRecords>ResourceRecord,omitempty"`
	AliasTarget   *aliasXML    `xml:"AliasTarget,omitempty"`
}

type changeXML struct {
	Action string   `xml:"Action"`
	RRSet  rrsetXML `xml:"ResourceRecordSet"`
}

type changeBatchRequest struct {
	XMLName xml.Name    `xml:"ChangeResourceRecordSetsRequest"`
	Comment string      `xml:"ChangeBatch>Comment"`
	Changes []changeXML `xml:"ChangeBatch>Changes>Change"`
}

type createHostedZoneRequest struct {
	XMLName         xml.Name `xml:"CreateHostedZoneRequest"`
	Name            string   `xml:"Name"`
	CallerReference string   `xml:"CallerReference"`
	Comment         string   `xml:"HostedZoneConfig>Comment"`
	PrivateZone     bool     `xml:"HostedZoneConfig>PrivateZone"`
}

type changeInfoXML struct {
	ID          string `xml:"Id"`
	Status      string `xml:"Status"`
	SubmittedAt string `xml:"SubmittedAt"`
	Comment     string `xml:"Comment,omitempty"`
}

type hostedZoneXML struct {
	ID                     string `xml:"Id"`
	Name                   string `xml:"Name"`
	CallerReference        string `xml:"CallerReference"`
	Comment                string `xml:"Config>Comment,omitempty"`
	PrivateZone            bool   `xml:"Config>PrivateZone"`
	ResourceRecordSetCount int64  `xml:"ResourceRecordSetCount"`
}

type changeInfoResponse struct {
	XMLName    xml.Name
	ChangeInfo changeInfoXML `xml:"ChangeInfo"`
}

type createHostedZoneResponse struct {
	XMLName     xml.Name      `xml:"https://route53.amazonaws.com/doc/2013-04-01/ CreateHostedZoneResponse"`
	HostedZone  hostedZoneXML `xml:"HostedZone"`
	ChangeInfo  changeInfoXML `xml:"ChangeInfo"`
	NameServers []string      `xml:"DelegationSet>NameServers>NameServer"`
}

type getHostedZoneResponse struct {
	XMLName     xml.Name      `xml:"https://route53.amazonaws.com/doc/2013-04-01/ GetHostedZoneResponse"`
	HostedZone  hostedZoneXML `xml:"HostedZone"`
	NameServers []string      `xml:"DelegationSet>NameServers>NameServer"`
}

type listRRSetsResponse struct {
	XMLName              xml.Name   `xml:"https://route53.amazonaws.com/doc/2013-04-01/ ListResourceRecordSetsResponse"`
	RRSets               []rrsetXML `xml:"ResourceRecordSets>ResourceRecordSet"`
	IsTruncated          bool       `xml:"IsTruncated"`
	NextRecordName       string     `xml:"NextRecordName,omitempty"`
	NextRecordType       string     `xml:"NextRecordType,omitempty"`
	NextRecordIdentifier string     `xml:"NextRecordIdentifier,omitempty"`
	MaxItems             string     `xml:"MaxItems"`
}

type r53ErrorResponse struct {
	XMLName   xml.Name `xml:"https://route53.amazonaws.com/doc/2013-04-01/ ErrorResponse"`
	Type      string   `xml:"Error>Type"`
	Code      string   `xml:"Error>Code"`
	Message   string   `xml:"Error>Message"`
	RequestID string   `xml:"RequestId"`
}

type invalidChangeBatchResponse struct {
	XMLName   xml.Name `xml:"https://route53.amazonaws.com/doc/2013-04-01/ InvalidChangeBatch"`
	Messages  []string `xml:"Messages>Message"`
	RequestID string   `xml:"RequestId"`
}

// r53Error is a Route 53 API error. A non-empty messages list is rendered
// as Route 53's InvalidChangeBatch document.
type r53Error struct {
	status   int
	code     string
	msg      string
	messages []string
}

func (e *r53Error) Error() string { return e.code + ": " + e.msg + strings.Join(e.messages, "; ") }

func writeR53Error(w http.ResponseWriter, reqID string, e *r53Error) {
	if e.code == "InvalidChangeBatch" && len(e.messages) > 0 {
		writeXML(w, e.status, reqID, &invalidChangeBatchResponse{Messages: e.messages, RequestID: reqID})
		return
	}
	writeXML(w, e.status, reqID, &r53ErrorResponse{Type: "Sender", Code: e.code, Message: e.msg, RequestID: reqID})
}

// escapeName renders a stored name the way Route 53 returns it: octal
// escapes for characters outside [a-z0-9-_.], e.g. "*" becomes "\052".
func escapeName(name string) string {
	var b strings.Builder
	for _, c := range []byte(name) {
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '-', c == '_', c == '.':
			b.WriteByte(c)
		default:
			b.WriteString("\\" + string([]byte{'0' + c>>6, '0' + (c>>3)&7, '0' + c&7}))
		}
	}
	return b.String()
}

// normalizeName lowercases, unescapes octal escapes and adds the trailing
// dot, giving the canonical stored form.
func normalizeName(name string) string {
	var b strings.Builder
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c == '\\' && i+3 < len(name) && isOctal(name[i+1]) && isOctal(name[i+2]) && isOctal(name[i+3]) {
			b.WriteByte((name[i+1]-'0')<<6 | (name[i+2]-'0')<<3 | (name[i+3] - '0'))
			i += 3
			continue
		}
		b.WriteByte(c)
	}
	n := strings.ToLower(b.String())
	if !strings.HasSuffix(n, ".") {
		n += "."
	}
	return n
}

func isOctal(c byte) bool { return c >= '0' && c <= '7' }

// reversedLabels is Route 53's list sort key: labels in reverse order.
func reversedLabels(name string) string {
	labels := strings.Split(strings.TrimSuffix(name, "."), ".")
	for i, j := 0, len(labels)-1; i < j; i, j = i+1, j-1 {
		labels[i], labels[j] = labels[j], labels[i]
	}
	return strings.Join(labels, ".")
}

func rrKeyLess(a, b rrKey) bool {
	ra, rb := reversedLabels(a.name), reversedLabels(b.name)
	if ra != rb {
		return ra < rb
	}
	if a.typ != b.typ {
		return a.typ < b.typ
	}
	return a.setID < b.setID
}

func sortedKeys(m map[rrKey]rrset) []rrKey {
	keys := make([]rrKey, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return rrKeyLess(keys[i], keys[j]) })
	return keys
}
