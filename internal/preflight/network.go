package preflight

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
)

// checkSameVPC: the cluster scope moves traffic and volumes inside one
// VPC, so A and B must share it and all of B's subnets must lie in it.
func checkSameVPC(ctx context.Context, p *probe) Result {
	a, err := p.cluster(ctx, p.in.Source.Name)
	if err != nil {
		return errorResult(err)
	}
	b, err := p.cluster(ctx, p.in.Target.Name)
	if err != nil {
		return errorResult(err)
	}
	sideA, sideB := side("A", p.in.Source), side("B", p.in.Target)
	vpcA, vpcB := vpcOf(a), vpcOf(b)
	if vpcA != vpcB {
		return Result{Status: Fail,
			Detail: fmt.Sprintf("%s is in VPC %s, %s is in VPC %s", sideA, orNone(vpcA), sideB, orNone(vpcB)),
			Hint:   fmt.Sprintf("the cluster scope needs both clusters in one VPC: create %s in %s with subnets of that VPC", sideB, orNone(vpcA))}
	}
	ids := subnetsOf(b)
	if len(ids) == 0 {
		return Result{Status: Fail, Detail: fmt.Sprintf("%s reports no subnets", sideB),
			Hint: "check the cluster's networking in the EKS console (resourcesVpcConfig.subnetIds)"}
	}
	subnets, err := p.subnets(ctx, ids)
	if err != nil {
		return errorResult(err)
	}
	var outside []string
	for _, sn := range subnets {
		if aws.ToString(sn.VpcId) != vpcA {
			outside = append(outside, fmt.Sprintf("%s (VPC %s)", aws.ToString(sn.SubnetId), aws.ToString(sn.VpcId)))
		}
	}
	if len(outside) > 0 {
		return Result{Status: Fail,
			Detail: fmt.Sprintf("both clusters are in VPC %s, but subnets of %s are not: %s", vpcA, sideB, strings.Join(outside, ", ")),
			Hint:   fmt.Sprintf("update %s's subnets to subnets of %s (aws eks update-cluster-config --resources-vpc-config subnetIds=…)", sideB, vpcA)}
	}
	return Result{Status: Pass,
		Detail: fmt.Sprintf("%s and %s are in VPC %s; %s's subnets %s are in it", sideA, sideB, vpcA, sideB, strings.Join(ids, ", "))}
}

// checkSecurityGroups: traffic from B's load balancers reaches B's pods
// through B's cluster security group, so its ingress must admit every
// subnet the load balancers live in.
func checkSecurityGroups(ctx context.Context, p *probe) Result {
	b, err := p.cluster(ctx, p.in.Target.Name)
	if err != nil {
		return errorResult(err)
	}
	sideB := side("B", p.in.Target)
	sgID := ""
	if b.ResourcesVpcConfig != nil {
		sgID = aws.ToString(b.ResourcesVpcConfig.ClusterSecurityGroupId)
	}
	if sgID == "" {
		return Result{Status: Fail, Detail: fmt.Sprintf("%s reports no cluster security group", sideB),
			Hint: "EKS creates one for every cluster since platform version eks.1 on Kubernetes 1.14: check the cluster in the EKS console"}
	}
	sources, what, err := p.lbSources(ctx, b)
	if err != nil {
		return errorResult(err)
	}
	if len(sources) == 0 {
		return Result{Status: Warn, Detail: fmt.Sprintf("found no subnets of %s to check", what),
			Hint: "name B's load balancers for preflight, or check the cluster's subnets"}
	}
	rules, err := p.ingress(ctx, sgID)
	if err != nil {
		return errorResult(err)
	}
	var covered, uncovered, cidrs []string
	for _, src := range sources {
		if by := admittedBy(rules, src); by != "" {
			covered = append(covered, fmt.Sprintf("%s (%s) via %s", src.subnetID, src.cidr, by))
		} else {
			uncovered = append(uncovered, fmt.Sprintf("%s (%s)", src.subnetID, src.cidr))
			cidrs = append(cidrs, src.cidr)
		}
	}
	if len(uncovered) > 0 {
		return Result{Status: Fail,
			Detail: fmt.Sprintf("cluster security group %s of %s admits no traffic from %s of %s", sgID, sideB, strings.Join(uncovered, ", "), what),
			Hint: fmt.Sprintf("allow each subnet in: aws ec2 authorize-security-group-ingress --group-id %s --protocol tcp --port <target port> --cidr %s "+
				"(for %s), or allow the load balancer's security group with --source-group", sgID, cidrs[0], strings.Join(cidrs, ", "))}
	}
	return Result{Status: Pass, Detail: fmt.Sprintf("cluster security group %s of %s admits every subnet of %s: %s", sgID, sideB, what, strings.Join(covered, ", "))}
}

// lbSource is a subnet traffic comes from, with the security groups of
// the load balancer in it.
type lbSource struct {
	subnetID, cidr string
	groups         []string
}

// lbSources returns the subnets of the named load balancers, or of the
// cluster when none are named, with their CIDRs; what describes them.
func (p *probe) lbSources(ctx context.Context, b *eksCluster) ([]lbSource, string, error) {
	groupsOf := map[string][]string{} // subnet -> LB security groups
	var ids []string
	what := "cluster " + side("B", p.in.Target)
	if names := p.in.LoadBalancers; len(names) > 0 {
		what = "load balancers " + strings.Join(names, ", ")
		if p.in.AWS == nil || p.in.AWS.ELBv2 == nil {
			return nil, what, errNoClient("ELBv2")
		}
		out, err := p.in.AWS.ELBv2.DescribeLoadBalancers(ctx, &elbv2.DescribeLoadBalancersInput{Names: names})
		if err != nil {
			return nil, what, apiError("elasticloadbalancing:DescribeLoadBalancers", strings.Join(names, ","), err)
		}
		for _, lb := range out.LoadBalancers {
			for _, az := range lb.AvailabilityZones {
				id := aws.ToString(az.SubnetId)
				if _, seen := groupsOf[id]; !seen {
					ids = append(ids, id)
				}
				groupsOf[id] = append(groupsOf[id], lb.SecurityGroups...)
			}
		}
	} else {
		ids = subnetsOf(b)
	}
	if len(ids) == 0 {
		return nil, what, nil
	}
	subnets, err := p.subnets(ctx, ids)
	if err != nil {
		return nil, what, err
	}
	out := make([]lbSource, 0, len(subnets))
	for _, sn := range subnets {
		id := aws.ToString(sn.SubnetId)
		out = append(out, lbSource{subnetID: id, cidr: aws.ToString(sn.CidrBlock), groups: groupsOf[id]})
	}
	return out, what, nil
}

// admittedBy returns the rule source that admits TCP traffic from src
// (a CIDR containing the subnet's, or one of the load balancer's security
// groups), or "".
func admittedBy(rules []ec2types.IpPermission, src lbSource) string {
	subnet, err := netip.ParsePrefix(src.cidr)
	if err != nil {
		return ""
	}
	for _, r := range rules {
		if proto := aws.ToString(r.IpProtocol); proto != "-1" && proto != "tcp" && proto != "6" {
			continue
		}
		for _, rg := range r.IpRanges {
			if cidr, err := netip.ParsePrefix(aws.ToString(rg.CidrIp)); err == nil && contains(cidr, subnet) {
				return aws.ToString(rg.CidrIp)
			}
		}
		for _, pair := range r.UserIdGroupPairs {
			if g := aws.ToString(pair.GroupId); slices.Contains(src.groups, g) {
				return g
			}
		}
	}
	return ""
}

// contains reports whether every address of inner is in outer.
func contains(outer, inner netip.Prefix) bool {
	return outer.Addr().Is4() == inner.Addr().Is4() && outer.Bits() <= inner.Bits() && outer.Masked().Contains(inner.Addr())
}

func (p *probe) subnets(ctx context.Context, ids []string) ([]ec2types.Subnet, error) {
	if p.in.AWS == nil || p.in.AWS.EC2 == nil {
		return nil, errNoClient("EC2")
	}
	var all []ec2types.Subnet
	in := &ec2.DescribeSubnetsInput{SubnetIds: ids}
	for {
		out, err := p.in.AWS.EC2.DescribeSubnets(ctx, in)
		if err != nil {
			return nil, apiError("ec2:DescribeSubnets", strings.Join(ids, ","), err)
		}
		all = append(all, out.Subnets...)
		if aws.ToString(out.NextToken) == "" {
			return all, nil
		}
		in.NextToken = out.NextToken
	}
}

func (p *probe) ingress(ctx context.Context, groupID string) ([]ec2types.IpPermission, error) {
	if p.in.AWS == nil || p.in.AWS.EC2 == nil {
		return nil, errNoClient("EC2")
	}
	out, err := p.in.AWS.EC2.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{GroupIds: []string{groupID}})
	if err != nil {
		return nil, apiError("ec2:DescribeSecurityGroups", groupID, err)
	}
	var rules []ec2types.IpPermission
	for _, g := range out.SecurityGroups {
		rules = append(rules, g.IpPermissions...)
	}
	return rules, nil
}

func vpcOf(c *eksCluster) string {
	if c.ResourcesVpcConfig == nil {
		return ""
	}
	return aws.ToString(c.ResourcesVpcConfig.VpcId)
}

func subnetsOf(c *eksCluster) []string {
	if c.ResourcesVpcConfig == nil {
		return nil
	}
	return c.ResourcesVpcConfig.SubnetIds
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}
