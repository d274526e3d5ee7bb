package awsfake

import (
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// This file holds the Elastic Load Balancing v2 query API: load balancers,
// their target groups and target health, read-only.

const (
	elbv2APIVersion = "2015-12-01"
	elbv2Namespace  = "http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/"
)

// LoadBalancer seeds an Application or Network Load Balancer.
type LoadBalancer struct {
	// Name is the load balancer name.
	Name string
	// DNSName is its DNS name; empty means a made-up ELB one.
	DNSName string
	// VpcID is its VPC.
	VpcID string
	// SubnetIDs are its subnets, one per availability zone. Zones are
	// taken from subnets added with AddSubnet.
	SubnetIDs []string
	// SecurityGroups are the IDs of its security groups.
	SecurityGroups []string
	// Type is "application" (the default), "network" or "gateway".
	Type string
	// Scheme is "internet-facing" (the default) or "internal".
	Scheme string
}

type elbv2State struct {
	lbs    map[string]*loadBalancer // ARN -> LB
	lbARNs []string
	tgs    map[string]*targetGroup // ARN -> TG
	tgARNs []string
}

type loadBalancer struct {
	LoadBalancer
	arn     string
	created time.Time
}

type targetGroup struct {
	arn, name, lbARN string
	targets          map[string]string // target ID -> health state
}

func (e *elbv2State) init() {
	e.lbs = map[string]*loadBalancer{}
	e.tgs = map[string]*targetGroup{}
}

// canonicalZones are the ELB hosted zone IDs of us-east-1, the region the
// fake reports, used as alias targets in Route 53.
var canonicalZones = map[string]string{"application": "Z35SXDOTRQ7X7K", "network": "Z26RNL4JYFTOTI", "gateway": "Z26RNL4JYFTOTI"}

// AddLoadBalancer adds a load balancer in state "active" and returns its
// ARN.
func (s *Server) AddLoadBalancer(lb LoadBalancer) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if lb.Type == "" {
		lb.Type = "application"
	}
	if lb.Scheme == "" {
		lb.Scheme = "internet-facing"
	}
	short := map[string]string{"application": "app", "network": "net", "gateway": "gwy"}[lb.Type]
	if lb.DNSName == "" {
		lb.DNSName = fmt.Sprintf("%s-%s.us-east-1.elb.amazonaws.com", lb.Name, randHex(10))
		if lb.Type == "network" {
			lb.DNSName = fmt.Sprintf("%s-%s.elb.us-east-1.amazonaws.com", lb.Name, randHex(16))
		}
	}
	lb.SubnetIDs = slices.Clone(lb.SubnetIDs)
	lb.SecurityGroups = slices.Clone(lb.SecurityGroups)
	arn := fmt.Sprintf("arn:aws:elasticloadbalancing:us-east-1:%s:loadbalancer/%s/%s/%s", s.opts.AccountID, short, lb.Name, randHex(16))
	s.elbv2.lbs[arn] = &loadBalancer{LoadBalancer: lb, arn: arn, created: s.now()}
	s.elbv2.lbARNs = append(s.elbv2.lbARNs, arn)
	return arn
}

// AddTargetGroup adds a target group forwarded to by the load balancer
// lbARN, with targets mapping each target ID (an instance ID "i-…" or an
// IP address) to its health state ("healthy", "unhealthy", "initial",
// "draining", "unused", "unavailable"), and returns the group's ARN.
func (s *Server) AddTargetGroup(lbARN, name string, targets map[string]string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.elbv2.lbs[lbARN]; !ok {
		return "", fmt.Errorf("add target group %s: load balancer %s was not added", name, lbARN)
	}
	arn := fmt.Sprintf("arn:aws:elasticloadbalancing:us-east-1:%s:targetgroup/%s/%s", s.opts.AccountID, name, randHex(16))
	s.elbv2.tgs[arn] = &targetGroup{arn: arn, name: name, lbARN: lbARN, targets: maps.Clone(targets)}
	s.elbv2.tgARNs = append(s.elbv2.tgARNs, arn)
	return arn, nil
}

// SetTargetHealth sets (or, with state "", deregisters) one target's
// health in a target group, as the load balancer's health checks would.
func (s *Server) SetTargetHealth(tgARN, targetID, state string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	tg, ok := s.elbv2.tgs[tgARN]
	if !ok {
		return fmt.Errorf("set health of %s: target group %s was not added", targetID, tgARN)
	}
	if tg.targets == nil {
		tg.targets = map[string]string{}
	}
	if state == "" {
		delete(tg.targets, targetID)
	} else {
		tg.targets[targetID] = state
	}
	return nil
}

func (s *Server) elbv2Handlers() map[string]queryHandler {
	return map[string]queryHandler{
		"DescribeLoadBalancers": s.elbv2DescribeLoadBalancers,
		"DescribeTargetGroups":  s.elbv2DescribeTargetGroups,
		"DescribeTargetHealth":  s.elbv2DescribeTargetHealth,
	}
}

func elbErrf(code, format string, args ...any) *queryError {
	return queryErrf(http.StatusBadRequest, code, format, args...)
}

func (s *Server) elbv2DescribeLoadBalancers(f url.Values) (any, *queryError) {
	arns, names := listValues(f, "LoadBalancerArns.member"), listValues(f, "Names.member")
	if len(arns) > 0 && len(names) > 0 {
		return nil, elbErrf("ValidationError", "Load balancer names and load balancer ARNs cannot be specified at the same time")
	}
	var lbs []*loadBalancer
	switch {
	case len(arns) > 0:
		for _, arn := range arns {
			lb, ok := s.elbv2.lbs[arn]
			if !ok {
				return nil, elbErrf("LoadBalancerNotFound", "One or more load balancers not found")
			}
			lbs = append(lbs, lb)
		}
	case len(names) > 0:
		for _, name := range names {
			i := slices.IndexFunc(s.elbv2.lbARNs, func(arn string) bool { return s.elbv2.lbs[arn].Name == name })
			if i < 0 {
				return nil, elbErrf("LoadBalancerNotFound", "Load balancers '[%s]' not found", name)
			}
			lbs = append(lbs, s.elbv2.lbs[s.elbv2.lbARNs[i]])
		}
	default:
		for _, arn := range s.elbv2.lbARNs {
			lbs = append(lbs, s.elbv2.lbs[arn])
		}
	}
	out := &describeLoadBalancersResult{LoadBalancers: []loadBalancerXML{}}
	for _, lb := range lbs {
		x := loadBalancerXML{
			ARN: lb.arn, DNSName: lb.DNSName, CanonicalHostedZoneID: canonicalZones[lb.Type], CreatedTime: isoTime(lb.created),
			Name: lb.Name, Scheme: lb.Scheme, VpcID: lb.VpcID, StateCode: "active", Type: lb.Type,
			SecurityGroups: nonNil(lb.SecurityGroups), IPAddressType: "ipv4",
		}
		for _, id := range lb.SubnetIDs {
			x.AZs = append(x.AZs, lbAZXML{ZoneName: s.subnetAZLocked(id), SubnetID: id})
		}
		out.LoadBalancers = append(out.LoadBalancers, x)
	}
	return out, nil
}

func (s *Server) elbv2DescribeTargetGroups(f url.Values) (any, *queryError) {
	lbARN, arns, names := f.Get("LoadBalancerArn"), listValues(f, "TargetGroupArns.member"), listValues(f, "Names.member")
	given := 0
	for _, b := range []bool{lbARN != "", len(arns) > 0, len(names) > 0} {
		if b {
			given++
		}
	}
	if given > 1 {
		return nil, elbErrf("ValidationError", "Only one of LoadBalancerArn, TargetGroupArns and Names can be specified")
	}
	if lbARN != "" {
		if _, ok := s.elbv2.lbs[lbARN]; !ok {
			return nil, elbErrf("LoadBalancerNotFound", "Load balancer '%s' not found", lbARN)
		}
	}
	var tgs []*targetGroup
	for _, arn := range arns {
		tg, ok := s.elbv2.tgs[arn]
		if !ok {
			return nil, elbErrf("TargetGroupNotFound", "One or more target groups not found")
		}
		tgs = append(tgs, tg)
	}
	for _, name := range names {
		i := slices.IndexFunc(s.elbv2.tgARNs, func(arn string) bool { return s.elbv2.tgs[arn].name == name })
		if i < 0 {
			return nil, elbErrf("TargetGroupNotFound", "Target groups '[%s]' not found", name)
		}
		tgs = append(tgs, s.elbv2.tgs[s.elbv2.tgARNs[i]])
	}
	if len(arns) == 0 && len(names) == 0 {
		for _, arn := range s.elbv2.tgARNs {
			if tg := s.elbv2.tgs[arn]; lbARN == "" || tg.lbARN == lbARN {
				tgs = append(tgs, tg)
			}
		}
	}
	out := &describeTargetGroupsResult{TargetGroups: []targetGroupXML{}}
	for _, tg := range tgs {
		lb := s.elbv2.lbs[tg.lbARN]
		proto := "HTTP"
		if lb.Type == "network" {
			proto = "TCP"
		}
		targetType := "ip"
		for id := range tg.targets {
			if strings.HasPrefix(id, "i-") {
				targetType = "instance"
			}
		}
		out.TargetGroups = append(out.TargetGroups, targetGroupXML{
			ARN: tg.arn, Name: tg.name, Protocol: proto, Port: 80, VpcID: lb.VpcID,
			HealthCheckProtocol: proto, HealthCheckPort: "traffic-port", HealthCheckEnabled: true,
			HealthCheckIntervalSeconds: 30, HealthCheckTimeoutSeconds: 5, HealthyThresholdCount: 5,
			UnhealthyThresholdCount: 2, LoadBalancerARNs: []string{tg.lbARN}, TargetType: targetType,
		})
	}
	return out, nil
}

// targetReasons are the reason codes ELB reports next to each
// non-healthy state.
var targetReasons = map[string]string{
	"initial": "Elb.RegistrationInProgress", "unhealthy": "Target.FailedHealthChecks",
	"draining": "Target.DeregistrationInProgress", "unused": "Target.NotInUse",
	"unavailable": "Target.HealthCheckDisabled",
}

func (s *Server) elbv2DescribeTargetHealth(f url.Values) (any, *queryError) {
	arn := f.Get("TargetGroupArn")
	if arn == "" {
		return nil, elbErrf("ValidationError", "1 validation error detected: Value null at 'targetGroupArn' failed to satisfy constraint: Member must not be null")
	}
	tg, ok := s.elbv2.tgs[arn]
	if !ok {
		return nil, elbErrf("TargetGroupNotFound", "Target groups '%s' not found", arn)
	}
	var ids []string
	for i := 1; ; i++ {
		id := f.Get(fmt.Sprintf("Targets.member.%d.Id", i))
		if id == "" {
			break
		}
		ids = append(ids, id)
	}
	if len(ids) == 0 {
		ids = slices.Sorted(maps.Keys(tg.targets))
	}
	out := &describeTargetHealthResult{Descriptions: []targetHealthXML{}}
	for _, id := range ids {
		state, registered := tg.targets[id]
		x := targetHealthXML{TargetID: id, Port: 80, HealthCheckPort: "80", State: state, Reason: targetReasons[state]}
		if !registered {
			x.State, x.Reason = "unused", "Target.NotRegistered"
		}
		out.Descriptions = append(out.Descriptions, x)
	}
	return out, nil
}

type lbAZXML struct {
	ZoneName string `xml:"ZoneName"`
	SubnetID string `xml:"SubnetId"`
}

type loadBalancerXML struct {
	ARN                   string    `xml:"LoadBalancerArn"`
	DNSName               string    `xml:"DNSName"`
	CanonicalHostedZoneID string    `xml:"CanonicalHostedZoneId"`
	CreatedTime           string    `xml:"CreatedTime"`
	Name                  string    `xml:"LoadBalancerName"`
	Scheme                string    `xml:"Scheme"`
	VpcID                 string    `xml:"VpcId"`
	StateCode             string    `xml:"State>Code"`
	Type                  string    `xml:"Type"`
	AZs                   []lbAZXML `xml:"AvailabilityZones>member"`
	SecurityGroups        []string  `xml:"SecurityGroups>member"`
	IPAddressType         string    `xml:"IpAddressType"`
}

type describeLoadBalancersResult struct {
	LoadBalancers []loadBalancerXML `xml:"LoadBalancers>member"`
}

type targetGroupXML struct {
	ARN                        string   `xml:"TargetGroupArn"`
	Name                       string   `xml:"TargetGroupName"`
	Protocol                   string   `xml:"Protocol"`
	Port                       int32    `xml:"Port"`
	VpcID                      string   `xml:"VpcId"`
	HealthCheckProtocol        string   `xml:"HealthCheckProtocol"`
	HealthCheckPort            string   `xml:"HealthCheckPort"`
	HealthCheckEnabled         bool     `xml:"HealthCheckEnabled"`
	HealthCheckIntervalSeconds int32    `xml:"HealthCheckIntervalSeconds"`
	HealthCheckTimeoutSeconds  int32    `xml:"HealthCheckTimeoutSeconds"`
	HealthyThresholdCount      int32    `xml:"HealthyThresholdCount"`
	UnhealthyThresholdCount    int32    `xml:"UnhealthyThresholdCount"`
	LoadBalancerARNs           []string `xml:"LoadBalancerArns>member"`
	TargetType                 string   `xml:"TargetType"`
}

type describeTargetGroupsResult struct {
	TargetGroups []targetGroupXML `xml:"TargetGroups>member"`
}

type targetHealthXML struct {
	TargetID        string `xml:"Target>Id"`
	Port            int32  `xml:"Target>Port"`
	HealthCheckPort string `xml:"HealthCheckPort"`
	State           string `xml:"TargetHealth>State"`
	Reason          string `xml:"TargetHealth>Reason,omitempty"`
}

type describeTargetHealthResult struct {
	Descriptions []targetHealthXML `xml:"TargetHealthDescriptions>member"`
}
