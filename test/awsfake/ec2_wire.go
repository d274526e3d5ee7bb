package awsfake

import (
	"encoding/xml"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// This file holds the EC2 query-protocol encoding: form-list parsing and
// the XML response shapes the aws-sdk-go-v2 ec2 deserializers expect.

func ec2Name(local string) xml.Name { return xml.Name{Space: ec2Namespace, Local: local} }

type tagXML struct {
	Key   string `xml:"key"`
	Value string `xml:"value"`
}

type attachmentXML struct {
	AttachTime          string `xml:"attachTime"`
	Device              string `xml:"device"`
	InstanceID          string `xml:"instanceId"`
	Status              string `xml:"status"`
	VolumeID            string `xml:"volumeId"`
	DeleteOnTermination bool   `xml:"deleteOnTermination"`
}

type volumeXML struct {
	VolumeID           string          `xml:"volumeId"`
	Size               int32           `xml:"size"`
	SnapshotID         string          `xml:"snapshotId"`
	AvailabilityZone   string          `xml:"availabilityZone"`
	Status             string          `xml:"status"`
	CreateTime         string          `xml:"createTime"`
	Attachments        []attachmentXML `xml:"attachmentSet>item"`
	Tags               []tagXML        `xml:"tagSet>item,omitempty"`
	VolumeType         string          `xml:"volumeType"`
	Iops               int32           `xml:"iops,omitempty"`
	Encrypted          bool            `xml:"encrypted"`
	MultiAttachEnabled bool            `xml:"multiAttachEnabled"`
}

type snapshotXML struct {
	SnapshotID  string   `xml:"snapshotId"`
	VolumeID    string   `xml:"volumeId"`
	Status      string   `xml:"status"`
	StartTime   string   `xml:"startTime"`
	Progress    string   `xml:"progress"`
	OwnerID     string   `xml:"ownerId"`
	VolumeSize  int32    `xml:"volumeSize"`
	Description string   `xml:"description"`
	Encrypted   bool     `xml:"encrypted"`
	Tags        []tagXML `xml:"tagSet>item,omitempty"`
}

type createVolumeResponse struct {
	XMLName   xml.Name `xml:"http://ec2.amazonaws.com/doc/2016-11-15/ CreateVolumeResponse"`
	RequestID string   `xml:"requestId"`
	volumeXML
}

type describeVolumesResponse struct {
	XMLName   xml.Name    `xml:"http://ec2.amazonaws.com/doc/2016-11-15/ DescribeVolumesResponse"`
	RequestID string      `xml:"requestId"`
	Volumes   []volumeXML `xml:"volumeSet>item"`
}

type attachmentResponse struct {
	XMLName   xml.Name
	RequestID string `xml:"requestId"`
	attachmentXML
}

type returnResponse struct {
	XMLName   xml.Name
	RequestID string `xml:"requestId"`
	Return    bool   `xml:"return"`
}

type createSnapshotResponse struct {
	XMLName   xml.Name `xml:"http://ec2.amazonaws.com/doc/2016-11-15/ CreateSnapshotResponse"`
	RequestID string   `xml:"requestId"`
	snapshotXML
}

type describeSnapshotsResponse struct {
	XMLName   xml.Name      `xml:"http://ec2.amazonaws.com/doc/2016-11-15/ DescribeSnapshotsResponse"`
	RequestID string        `xml:"requestId"`
	Snapshots []snapshotXML `xml:"snapshotSet>item"`
}

type ec2ErrorResponse struct {
	XMLName   xml.Name      `xml:"Response"`
	Errors    []ec2ErrorXML `xml:"Errors>Error"`
	RequestID string        `xml:"RequestID"`
}

type ec2ErrorXML struct {
	Code    string `xml:"Code"`
	Message string `xml:"Message"`
}

func writeEC2Error(w http.ResponseWriter, reqID string, e *ec2Error) {
	status := http.StatusBadRequest
	switch {
	case e.code == "InvalidAction" && strings.HasPrefix(e.msg, "unsupported method"):
		status = http.StatusMethodNotAllowed
	case e.code == "RequestLimitExceeded":
		status = http.StatusServiceUnavailable // as EC2 answers throttled calls
	}
	writeXML(w, status, reqID, &ec2ErrorResponse{
		Errors:    []ec2ErrorXML{{Code: e.code, Message: e.msg}},
		RequestID: reqID,
	})
}

func tagsToXML(m map[string]string) []tagXML {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]tagXML, 0, len(keys))
	for _, k := range keys {
		out = append(out, tagXML{Key: k, Value: m[k]})
	}
	return out
}

func (s *Server) volumeXML(v *volume) volumeXML {
	x := volumeXML{
		VolumeID: v.id, Size: v.size, SnapshotID: v.snapshotID, AvailabilityZone: v.az,
		Status: v.state, CreateTime: isoTime(v.created), Tags: tagsToXML(v.tags),
		VolumeType: v.volumeType, Iops: v.iops, Encrypted: v.encrypted,
	}
	if v.attachment != nil {
		x.Attachments = []attachmentXML{attachmentToXML(v, "")}
	}
	return x
}

// attachmentToXML renders v's attachment; status overrides the stored state
// when non-empty.
func attachmentToXML(v *volume, status string) attachmentXML {
	a := v.attachment
	if status == "" {
		status = a.state
	}
	return attachmentXML{
		AttachTime: isoTime(a.attached), Device: a.device, InstanceID: a.instanceID,
		Status: status, VolumeID: v.id,
	}
}

func (s *Server) snapshotXML(sn *snapshot) snapshotXML {
	progress := "0%"
	if sn.state == "completed" {
		progress = "100%"
	}
	return snapshotXML{
		SnapshotID: sn.id, VolumeID: sn.volumeID, Status: sn.state, StartTime: isoTime(sn.started),
		Progress: progress, OwnerID: sn.owner, VolumeSize: sn.volumeSize,
		Description: sn.description, Tags: tagsToXML(sn.tags),
	}
}

// listValues returns prefix.1, prefix.2, ... until the first gap (the EC2
// query protocol flattens lists this way).
func listValues(f url.Values, prefix string) []string {
	var out []string
	for i := 1; ; i++ {
		v, ok := f[prefix+"."+strconv.Itoa(i)]
		if !ok || len(v) == 0 {
			return out
		}
		out = append(out, v[0])
	}
}

func parseTags(f url.Values, prefix string) map[string]string {
	tags := map[string]string{}
	for i := 1; ; i++ {
		p := prefix + "." + strconv.Itoa(i)
		k, ok := f[p+".Key"]
		if !ok || len(k) == 0 {
			return tags
		}
		tags[k[0]] = f.Get(p + ".Value")
	}
}

type tagSpec struct {
	resourceType string
	tags         map[string]string
}

func tagSpecs(f url.Values) []tagSpec {
	var out []tagSpec
	for i := 1; ; i++ {
		p := "TagSpecification." + strconv.Itoa(i)
		rt, ok := f[p+".ResourceType"]
		if !ok || len(rt) == 0 {
			return out
		}
		out = append(out, tagSpec{resourceType: rt[0], tags: parseTags(f, p+".Tag")})
	}
}

type filter struct {
	name     string
	patterns []*regexp.Regexp
}

// matchAny reports whether any of got matches any filter value (EC2 filter
// values are ORed and support the * and ? wildcards).
func (fl filter) matchAny(got []string) bool {
	for _, g := range got {
		for _, p := range fl.patterns {
			if p.MatchString(g) {
				return true
			}
		}
	}
	return false
}

func parseFilters(f url.Values) ([]filter, *ec2Error) {
	var out []filter
	for i := 1; ; i++ {
		p := "Filter." + strconv.Itoa(i)
		name, ok := f[p+".Name"]
		if !ok || len(name) == 0 {
			return out, nil
		}
		fl := filter{name: name[0]}
		for _, v := range listValues(f, p+".Value") {
			expr := regexp.QuoteMeta(v)
			expr = strings.ReplaceAll(expr, `\*`, `.*`)
			expr = strings.ReplaceAll(expr, `\?`, `.`)
			re, err := regexp.Compile("^" + expr + "$")
			if err != nil {
				return nil, ec2Errf("InvalidParameterValue", "invalid filter value %q", v)
			}
			fl.patterns = append(fl.patterns, re)
		}
		out = append(out, fl)
	}
}
