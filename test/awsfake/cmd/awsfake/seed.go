package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"slices"

	"github.com/bluegreen/bluegreen/test/awsfake"
)

// Seed is the --seed file. Field names match awsfake's seed types
// case-insensitively (vpcId, subnetIds, oidcIssuer, …); unknown fields are
// errors so that a typo does not silently seed nothing.
type Seed struct {
	// Clusters are EKS clusters.
	Clusters []awsfake.EKSCluster `json:"clusters"`
	// Addons are EKS add-ons of those clusters.
	Addons []Addon `json:"addons"`
	// OIDCProviders are issuer URLs that get an IAM OIDC provider.
	OIDCProviders []string `json:"oidcProviders"`
	// Subnets are VPC subnets.
	Subnets []awsfake.Subnet `json:"subnets"`
	// SecurityGroups are VPC security groups with their ingress rules.
	SecurityGroups []awsfake.SecurityGroup `json:"securityGroups"`
	// LoadBalancers are ELBv2 load balancers with their target groups.
	LoadBalancers []LoadBalancer `json:"loadBalancers"`
	// HostedZones maps a public hosted zone's name to the record sets to
	// create in it.
	HostedZones map[string][]awsfake.Record `json:"hostedZones"`
	// Instances maps an EC2 instance ID to its availability zone.
	Instances map[string]string `json:"instances"`
	// Volumes are EBS volumes, optionally attached to an instance.
	Volumes []awsfake.Volume `json:"volumes"`
}

// Addon is an EKS add-on installed in a seeded cluster.
type Addon struct {
	// Cluster is the seeded cluster's name.
	Cluster string `json:"cluster"`
	// Name is the add-on name, e.g. "aws-ebs-csi-driver".
	Name string `json:"name"`
	// Version is the add-on version, e.g. "v1.35.0-eksbuild.1".
	Version string `json:"version"`
}

// LoadBalancer is a load balancer with its target groups.
type LoadBalancer struct {
	awsfake.LoadBalancer
	// TargetGroups are the load balancer's target groups.
	TargetGroups []TargetGroup `json:"targetGroups"`
}

// TargetGroup is a target group of a seeded load balancer.
type TargetGroup struct {
	// Name is the target group name.
	Name string `json:"name"`
	// Targets maps a target ID to its health state, e.g. "healthy".
	Targets map[string]string `json:"targets"`
}

// IDs are the identifiers AWS generates for seeded resources, printed on
// the second line of stdout.
type IDs struct {
	// HostedZones maps a zone name to its ID.
	HostedZones map[string]string `json:"hostedZones"`
	// LoadBalancers maps a load balancer name to its ARN.
	LoadBalancers map[string]string `json:"loadBalancers"`
	// TargetGroups maps a target group name to its ARN.
	TargetGroups map[string]string `json:"targetGroups"`
	// OIDCProviders maps an issuer URL to its provider's ARN.
	OIDCProviders map[string]string `json:"oidcProviders"`
}

func readSeed(path string) (Seed, error) {
	var s Seed
	b, err := os.ReadFile(path)
	if err != nil {
		return s, fmt.Errorf("read seed: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return s, fmt.Errorf("parse seed %s: %w", path, err)
	}
	return s, nil
}

// load creates the seed's resources, dependencies first (subnets before
// the load balancers whose zones they give, instances before the volumes
// attached to them, clusters before their add-ons).
func load(srv *awsfake.Server, s Seed) (*IDs, error) {
	ids := &IDs{HostedZones: map[string]string{}, LoadBalancers: map[string]string{}, TargetGroups: map[string]string{}, OIDCProviders: map[string]string{}}
	for _, sn := range s.Subnets {
		srv.AddSubnet(sn)
	}
	for _, g := range s.SecurityGroups {
		srv.AddSecurityGroup(g)
	}
	for _, id := range slices.Sorted(maps.Keys(s.Instances)) {
		srv.AddInstance(id, s.Instances[id])
	}
	for _, v := range s.Volumes {
		if _, err := srv.AddVolume(v); err != nil {
			return nil, err
		}
	}
	for _, c := range s.Clusters {
		srv.AddCluster(c)
	}
	for _, a := range s.Addons {
		if err := srv.AddAddon(a.Cluster, a.Name, a.Version); err != nil {
			return nil, err
		}
	}
	for _, issuer := range s.OIDCProviders {
		ids.OIDCProviders[issuer] = srv.AddOIDCProvider(issuer)
	}
	for _, lb := range s.LoadBalancers {
		arn := srv.AddLoadBalancer(lb.LoadBalancer)
		ids.LoadBalancers[lb.Name] = arn
		for _, tg := range lb.TargetGroups {
			tgARN, err := srv.AddTargetGroup(arn, tg.Name, tg.Targets)
			if err != nil {
				return nil, err
			}
			ids.TargetGroups[tg.Name] = tgARN
		}
	}
	for _, name := range slices.Sorted(maps.Keys(s.HostedZones)) {
		zone := srv.AddHostedZone(name)
		ids.HostedZones[name] = zone
		if recs := s.HostedZones[name]; len(recs) > 0 {
			if err := srv.AddRecords(zone, recs...); err != nil {
				return nil, fmt.Errorf("hosted zone %s: %w", name, err)
			}
		}
	}
	return ids, nil
}
