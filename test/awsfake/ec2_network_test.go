package awsfake_test

import (
	"context"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/bluegreen/bluegreen/test/awsfake"
)

const (
	sgCluster = "sg-0123456789abcdef0"
	sgLB      = "sg-0fedcba9876543210"
	sgOther   = "sg-00000000000000001"
	subnetA   = "subnet-0aaaaaaaaaaaaaaa1"
	subnetB   = "subnet-0bbbbbbbbbbbbbbb2"
	subnetX   = "subnet-0ccccccccccccccc3"
)

func seedNetwork(srv *awsfake.Server) {
	srv.AddSubnet(awsfake.Subnet{ID: subnetA, VpcID: "vpc-1", CIDR: "10.0.1.0/24", AZ: "us-east-1a"})
	srv.AddSubnet(awsfake.Subnet{ID: subnetB, VpcID: "vpc-1", CIDR: "10.0.2.0/24", AZ: "us-east-1b"})
	srv.AddSubnet(awsfake.Subnet{ID: subnetX, VpcID: "vpc-2", CIDR: "172.16.0.0/20", AZ: "us-east-1a"})
	srv.AddSecurityGroup(awsfake.SecurityGroup{ID: sgCluster, Name: "eks-cluster-sg-green", VpcID: "vpc-1", Ingress: []awsfake.IngressRule{
		{Protocol: "tcp", FromPort: 443, ToPort: 443, CIDRs: []string{"10.0.0.0/16"}},
		{Protocol: "-1", SourceGroups: []string{sgLB}},
	}})
	srv.AddSecurityGroup(awsfake.SecurityGroup{ID: sgLB, VpcID: "vpc-1"})
	srv.AddSecurityGroup(awsfake.SecurityGroup{ID: sgOther, VpcID: "vpc-2"})
}

func TestDescribeSecurityGroups(t *testing.T) {
	ctx := context.Background()
	srv, c := newEC2(t, awsfake.Options{})
	seedNetwork(srv)

	out, err := c.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{GroupIds: []string{sgCluster}})
	if err != nil {
		t.Fatalf("DescribeSecurityGroups: %v", err)
	}
	if len(out.SecurityGroups) != 1 {
		t.Fatalf("got %d groups", len(out.SecurityGroups))
	}
	g := out.SecurityGroups[0]
	if aws.ToString(g.GroupId) != sgCluster || aws.ToString(g.VpcId) != "vpc-1" || aws.ToString(g.GroupName) != "eks-cluster-sg-green" ||
		aws.ToString(g.OwnerId) != awsfake.DefaultAccountID || len(g.IpPermissions) != 2 || len(g.IpPermissionsEgress) != 1 {
		t.Fatalf("unexpected group %+v", g)
	}
	tcp, all := g.IpPermissions[0], g.IpPermissions[1]
	if aws.ToString(tcp.IpProtocol) != "tcp" || aws.ToInt32(tcp.FromPort) != 443 || aws.ToInt32(tcp.ToPort) != 443 ||
		len(tcp.IpRanges) != 1 || aws.ToString(tcp.IpRanges[0].CidrIp) != "10.0.0.0/16" || len(tcp.UserIdGroupPairs) != 0 {
		t.Fatalf("tcp rule %+v", tcp)
	}
	if aws.ToString(all.IpProtocol) != "-1" || all.FromPort != nil || all.ToPort != nil ||
		len(all.UserIdGroupPairs) != 1 || aws.ToString(all.UserIdGroupPairs[0].GroupId) != sgLB {
		t.Fatalf("all-traffic rule %+v", all)
	}

	f := func(name string, values ...string) types.Filter {
		return types.Filter{Name: aws.String(name), Values: values}
	}
	tests := []struct {
		name    string
		in      ec2.DescribeSecurityGroupsInput
		want    []string
		wantErr string
	}{
		{name: "all", want: []string{sgCluster, sgLB, sgOther}},
		{name: "ids", in: ec2.DescribeSecurityGroupsInput{GroupIds: []string{sgOther, sgLB}}, want: []string{sgOther, sgLB}},
		{name: "vpc-id filter", in: ec2.DescribeSecurityGroupsInput{Filters: []types.Filter{f("vpc-id", "vpc-1")}}, want: []string{sgCluster, sgLB}},
		{name: "group-id filter", in: ec2.DescribeSecurityGroupsInput{Filters: []types.Filter{f("group-id", sgOther)}}, want: []string{sgOther}},
		{name: "ids and filter", in: ec2.DescribeSecurityGroupsInput{GroupIds: []string{sgCluster, sgOther}, Filters: []types.Filter{f("vpc-id", "vpc-2")}}, want: []string{sgOther}},
		{name: "group-name filter", in: ec2.DescribeSecurityGroupsInput{Filters: []types.Filter{f("group-name", "eks-cluster-sg-*")}}, want: []string{sgCluster}},
		{name: "name outside the default vpc", in: ec2.DescribeSecurityGroupsInput{GroupNames: []string{"eks-cluster-sg-green"}}, wantErr: "InvalidGroup.NotFound"},
		{name: "unknown id", in: ec2.DescribeSecurityGroupsInput{GroupIds: []string{"sg-0999999999999999f"}}, wantErr: "InvalidGroup.NotFound"},
		{name: "malformed id", in: ec2.DescribeSecurityGroupsInput{GroupIds: []string{"bogus"}}, wantErr: "InvalidGroupId.Malformed"},
		{name: "bad filter", in: ec2.DescribeSecurityGroupsInput{Filters: []types.Filter{f("nope", "x")}}, wantErr: "InvalidParameterValue"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := c.DescribeSecurityGroups(ctx, &tt.in)
			if tt.wantErr != "" {
				wantAPIError(t, err, tt.wantErr)
				return
			}
			if err != nil {
				t.Fatalf("DescribeSecurityGroups: %v", err)
			}
			var got []string
			for _, g := range out.SecurityGroups {
				got = append(got, aws.ToString(g.GroupId))
			}
			if !slices.Equal(got, tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestDescribeSubnets(t *testing.T) {
	ctx := context.Background()
	srv, c := newEC2(t, awsfake.Options{})
	seedNetwork(srv)

	out, err := c.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{SubnetIds: []string{subnetX}})
	if err != nil {
		t.Fatalf("DescribeSubnets: %v", err)
	}
	if len(out.Subnets) != 1 {
		t.Fatalf("got %d subnets", len(out.Subnets))
	}
	sn := out.Subnets[0]
	if aws.ToString(sn.SubnetId) != subnetX || aws.ToString(sn.VpcId) != "vpc-2" || aws.ToString(sn.CidrBlock) != "172.16.0.0/20" ||
		aws.ToString(sn.AvailabilityZone) != "us-east-1a" || sn.State != types.SubnetStateAvailable || aws.ToInt32(sn.AvailableIpAddressCount) != 4091 {
		t.Fatalf("unexpected subnet %+v", sn)
	}

	f := func(name string, values ...string) types.Filter {
		return types.Filter{Name: aws.String(name), Values: values}
	}
	tests := []struct {
		name    string
		in      ec2.DescribeSubnetsInput
		want    []string
		wantErr string
	}{
		{name: "all", want: []string{subnetA, subnetB, subnetX}},
		{name: "ids", in: ec2.DescribeSubnetsInput{SubnetIds: []string{subnetB, subnetA}}, want: []string{subnetB, subnetA}},
		{name: "vpc-id filter", in: ec2.DescribeSubnetsInput{Filters: []types.Filter{f("vpc-id", "vpc-1")}}, want: []string{subnetA, subnetB}},
		{name: "ids and vpc filter", in: ec2.DescribeSubnetsInput{SubnetIds: []string{subnetA, subnetX}, Filters: []types.Filter{f("vpc-id", "vpc-1")}}, want: []string{subnetA}},
		{name: "no match", in: ec2.DescribeSubnetsInput{Filters: []types.Filter{f("vpc-id", "vpc-9")}}, want: nil},
		{name: "unknown id", in: ec2.DescribeSubnetsInput{SubnetIds: []string{"subnet-0999999999999999f"}}, wantErr: "InvalidSubnetID.NotFound"},
		{name: "malformed id", in: ec2.DescribeSubnetsInput{SubnetIds: []string{"sub-1"}}, wantErr: "InvalidSubnetID.Malformed"},
		{name: "bad filter", in: ec2.DescribeSubnetsInput{Filters: []types.Filter{f("nope", "x")}}, wantErr: "InvalidParameterValue"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := c.DescribeSubnets(ctx, &tt.in)
			if tt.wantErr != "" {
				wantAPIError(t, err, tt.wantErr)
				return
			}
			if err != nil {
				t.Fatalf("DescribeSubnets: %v", err)
			}
			var got []string
			for _, sn := range out.Subnets {
				got = append(got, aws.ToString(sn.SubnetId))
			}
			if !slices.Equal(got, tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
}
