package awsfake

import (
	"encoding/xml"
	"net/netip"
	"net/url"
	"regexp"
	"slices"
	"strings"
)

// This file holds the read-only VPC networking the preflight inspects:
// security groups with their ingress rules, and subnets.

var (
	groupIDPattern  = regexp.MustCompile(`^sg-([0-9a-f]{8}|[0-9a-f]{17})$`)
	subnetIDPattern = regexp.MustCompile(`^subnet-([0-9a-f]{8}|[0-9a-f]{17})$`)
)

// SecurityGroup seeds a VPC security group.
type SecurityGroup struct {
	// ID is the group ID ("sg-" and 8 or 17 hex digits).
	ID string
	// Name is the group name; empty means the ID.
	Name string
	// Description is the group description.
	Description string
	// VpcID is the VPC the group belongs to.
	VpcID string
	// Ingress are the inbound rules. Egress is always EC2's default rule
	// (all traffic to 0.0.0.0/0).
	Ingress []IngressRule
}

// IngressRule is one inbound permission of a security group.
type IngressRule struct {
	// Protocol is "tcp", "udp", "icmp" or "-1" (all traffic); empty
	// means "-1".
	Protocol string
	// FromPort and ToPort bound the port range; they are not reported
	// for protocol "-1", as in EC2.
	FromPort, ToPort int32
	// CIDRs are IPv4 source ranges, e.g. "10.0.0.0/16".
	CIDRs []string
	// SourceGroups are the IDs of security groups whose members may
	// connect.
	SourceGroups []string
}

// Subnet seeds a VPC subnet.
type Subnet struct {
	// ID is the subnet ID ("subnet-" and 8 or 17 hex digits).
	ID string
	// VpcID is the VPC the subnet belongs to.
	VpcID string
	// CIDR is the subnet's IPv4 range, e.g. "10.0.1.0/24".
	CIDR string
	// AZ is the subnet's availability zone.
	AZ string
}

type securityGroup struct{ SecurityGroup }

type subnet struct{ Subnet }

// AddSecurityGroup adds or replaces a security group.
func (s *Server) AddSecurityGroup(g SecurityGroup) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if g.Name == "" {
		g.Name = g.ID
	}
	g.Ingress = slices.Clone(g.Ingress)
	if _, ok := s.ec2.groups[g.ID]; !ok {
		s.ec2.groupIDs = append(s.ec2.groupIDs, g.ID)
	}
	s.ec2.groups[g.ID] = &securityGroup{g}
}

// AddSubnet adds or replaces a subnet.
func (s *Server) AddSubnet(sn Subnet) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.ec2.subnets[sn.ID]; !ok {
		s.ec2.subnetIDs = append(s.ec2.subnetIDs, sn.ID)
	}
	s.ec2.subnets[sn.ID] = &subnet{sn}
}

// subnetAZLocked returns the zone of a seeded subnet, or "".
func (s *Server) subnetAZLocked(id string) string {
	if sn, ok := s.ec2.subnets[id]; ok {
		return sn.AZ
	}
	return ""
}

func (s *Server) ec2DescribeSecurityGroups(f url.Values, reqID string) (any, *ec2Error) {
	filters, err := parseFilters(f)
	if err != nil {
		return nil, err
	}
	var groups []*securityGroup
	ids, names := listValues(f, "GroupId"), listValues(f, "GroupName")
	switch {
	case len(ids) > 0 || len(names) > 0:
		for _, id := range ids {
			if !groupIDPattern.MatchString(id) {
				return nil, ec2Errf("InvalidGroupId.Malformed", "Invalid id: %q (expecting \"sg-...\")", id)
			}
			g, ok := s.ec2.groups[id]
			if !ok {
				return nil, ec2Errf("InvalidGroup.NotFound", "The security group '%s' does not exist", id)
			}
			groups = append(groups, g)
		}
		// EC2 resolves GroupName only in the default VPC, which the
		// fake does not have; groups elsewhere are found by ID or by
		// the group-name filter.
		if len(names) > 0 {
			return nil, ec2Errf("InvalidGroup.NotFound", "The security group '%s' does not exist in default VPC", names[0])
		}
	default:
		for _, id := range s.ec2.groupIDs {
			groups = append(groups, s.ec2.groups[id])
		}
	}
	out := &describeSecurityGroupsResponse{RequestID: reqID, Groups: []securityGroupXML{}}
	for _, g := range groups {
		ok := true
		for _, fl := range filters {
			var got []string
			switch fl.name {
			case "group-id":
				got = []string{g.ID}
			case "group-name":
				got = []string{g.Name}
			case "vpc-id":
				got = []string{g.VpcID}
			case "description":
				got = []string{g.Description}
			case "owner-id":
				got = []string{s.opts.AccountID}
			default:
				return nil, ec2Errf("InvalidParameterValue", "The filter '%s' is invalid", fl.name)
			}
			ok = ok && fl.matchAny(got)
		}
		if ok {
			out.Groups = append(out.Groups, s.securityGroupXML(g))
		}
	}
	return out, nil
}

func (s *Server) ec2DescribeSubnets(f url.Values, reqID string) (any, *ec2Error) {
	filters, err := parseFilters(f)
	if err != nil {
		return nil, err
	}
	var subnets []*subnet
	if ids := listValues(f, "SubnetId"); len(ids) > 0 {
		for _, id := range ids {
			if !subnetIDPattern.MatchString(id) {
				return nil, ec2Errf("InvalidSubnetID.Malformed", "Invalid id: %q", id)
			}
			sn, ok := s.ec2.subnets[id]
			if !ok {
				return nil, ec2Errf("InvalidSubnetID.NotFound", "The subnet ID '%s' does not exist", id)
			}
			subnets = append(subnets, sn)
		}
	} else {
		for _, id := range s.ec2.subnetIDs {
			subnets = append(subnets, s.ec2.subnets[id])
		}
	}
	out := &describeSubnetsResponse{RequestID: reqID, Subnets: []subnetXML{}}
	for _, sn := range subnets {
		ok := true
		for _, fl := range filters {
			var got []string
			switch fl.name {
			case "subnet-id":
				got = []string{sn.ID}
			case "vpc-id":
				got = []string{sn.VpcID}
			case "availability-zone", "availabilityZone":
				got = []string{sn.AZ}
			case "cidr-block", "cidrBlock", "cidr":
				got = []string{sn.CIDR}
			case "state":
				got = []string{"available"}
			default:
				return nil, ec2Errf("InvalidParameterValue", "The filter '%s' is invalid", fl.name)
			}
			ok = ok && fl.matchAny(got)
		}
		if ok {
			out.Subnets = append(out.Subnets, s.subnetXML(sn))
		}
	}
	return out, nil
}

func (s *Server) securityGroupXML(g *securityGroup) securityGroupXML {
	x := securityGroupXML{
		GroupID: g.ID, GroupName: g.Name, Description: g.Description, OwnerID: s.opts.AccountID, VpcID: g.VpcID,
		ARN:     "arn:aws:ec2:us-east-1:" + s.opts.AccountID + ":security-group/" + g.ID,
		Ingress: []ipPermissionXML{},
		Egress:  []ipPermissionXML{{Protocol: "-1", Ranges: []ipRangeXML{{CIDR: "0.0.0.0/0"}}}},
	}
	for _, r := range g.Ingress {
		p := ipPermissionXML{Protocol: strings.ToLower(r.Protocol)}
		if p.Protocol == "" || p.Protocol == "all" {
			p.Protocol = "-1"
		}
		if p.Protocol != "-1" {
			from, to := r.FromPort, r.ToPort
			p.FromPort, p.ToPort = &from, &to
		}
		for _, c := range r.CIDRs {
			p.Ranges = append(p.Ranges, ipRangeXML{CIDR: c})
		}
		for _, id := range r.SourceGroups {
			p.Groups = append(p.Groups, groupPairXML{GroupID: id, UserID: s.opts.AccountID})
		}
		x.Ingress = append(x.Ingress, p)
	}
	return x
}

func (s *Server) subnetXML(sn *subnet) subnetXML {
	x := subnetXML{
		SubnetID: sn.ID, VpcID: sn.VpcID, CIDR: sn.CIDR, AZ: sn.AZ, State: "available", OwnerID: s.opts.AccountID,
		ARN: "arn:aws:ec2:us-east-1:" + s.opts.AccountID + ":subnet/" + sn.ID,
	}
	// EC2 reserves five addresses of every subnet.
	if p, err := netip.ParsePrefix(sn.CIDR); err == nil && p.Addr().Is4() && p.Bits() <= 28 {
		x.AvailableIPs = (1 << (32 - p.Bits())) - 5
	}
	return x
}

type ipRangeXML struct {
	CIDR string `xml:"cidrIp"`
}

type groupPairXML struct {
	GroupID string `xml:"groupId"`
	UserID  string `xml:"userId"`
}

type ipPermissionXML struct {
	Protocol string         `xml:"ipProtocol"`
	FromPort *int32         `xml:"fromPort,omitempty"`
	ToPort   *int32         `xml:"toPort,omitempty"`
	Groups   []groupPairXML `xml:"groups>item"`
	Ranges   []ipRangeXML   `xml:"ipRanges>item"`
}

type securityGroupXML struct {
	OwnerID     string            `xml:"ownerId"`
	GroupID     string            `xml:"groupId"`
	GroupName   string            `xml:"groupName"`
	Description string            `xml:"groupDescription"`
	VpcID       string            `xml:"vpcId"`
	ARN         string            `xml:"securityGroupArn"`
	Ingress     []ipPermissionXML `xml:"ipPermissions>item"`
	Egress      []ipPermissionXML `xml:"ipPermissionsEgress>item"`
}

type subnetXML struct {
	SubnetID     string `xml:"subnetId"`
	ARN          string `xml:"subnetArn"`
	State        string `xml:"state"`
	OwnerID      string `xml:"ownerId"`
	VpcID        string `xml:"vpcId"`
	CIDR         string `xml:"cidrBlock"`
	AvailableIPs int    `xml:"availableIpAddressCount"`
	AZ           string `xml:"availabilityZone"`
	DefaultForAz bool   `xml:"defaultForAz"`
}

type describeSecurityGroupsResponse struct {
	XMLName   xml.Name           `xml:"http://ec2.amazonaws.com/doc/2016-11-15/ DescribeSecurityGroupsResponse"`
	RequestID string             `xml:"requestId"`
	Groups    []securityGroupXML `xml:"securityGroupInfo>item"`
}

type describeSubnetsResponse struct {
	XMLName   xml.Name    `xml:"http://ec2.amazonaws.com/doc/2016-11-15/ DescribeSubnetsResponse"`
	RequestID string      `xml:"requestId"`
	Subnets   []subnetXML `xml:"subnetSet>item"`
}
