package awsfake_test

import (
	"context"
	"errors"
	"maps"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/bluegreen/bluegreen/test/awsfake"
)

func TestELBv2LoadBalancers(t *testing.T) {
	ctx := context.Background()
	srv := awsfake.New(awsfake.Options{}).StartT(t)
	seedNetwork(srv)
	albARN := srv.AddLoadBalancer(awsfake.LoadBalancer{Name: "green-web", DNSName: "green-web-1.us-east-1.elb.amazonaws.com",
		VpcID: "vpc-1", SubnetIDs: []string{subnetA, subnetB}, SecurityGroups: []string{sgLB}})
	nlbARN := srv.AddLoadBalancer(awsfake.LoadBalancer{Name: "green-tcp", VpcID: "vpc-1", SubnetIDs: []string{subnetA}, Type: "network", Scheme: "internal"})
	c := elbv2.NewFromConfig(srv.AWSConfig())

	out, err := c.DescribeLoadBalancers(ctx, &elbv2.DescribeLoadBalancersInput{Names: []string{"green-web"}})
	if err != nil {
		t.Fatalf("DescribeLoadBalancers: %v", err)
	}
	if len(out.LoadBalancers) != 1 {
		t.Fatalf("got %d load balancers", len(out.LoadBalancers))
	}
	lb := out.LoadBalancers[0]
	if aws.ToString(lb.LoadBalancerArn) != albARN || aws.ToString(lb.DNSName) != "green-web-1.us-east-1.elb.amazonaws.com" ||
		aws.ToString(lb.CanonicalHostedZoneId) != "Z35SXDOTRQ7X7K" || aws.ToString(lb.VpcId) != "vpc-1" ||
		lb.Type != elbtypes.LoadBalancerTypeEnumApplication || lb.Scheme != elbtypes.LoadBalancerSchemeEnumInternetFacing ||
		lb.State == nil || lb.State.Code != elbtypes.LoadBalancerStateEnumActive || !slices.Equal(lb.SecurityGroups, []string{sgLB}) {
		t.Fatalf("unexpected load balancer %+v", lb)
	}
	if len(lb.AvailabilityZones) != 2 || aws.ToString(lb.AvailabilityZones[0].ZoneName) != "us-east-1a" ||
		aws.ToString(lb.AvailabilityZones[1].SubnetId) != subnetB {
		t.Fatalf("unexpected zones %+v", lb.AvailabilityZones)
	}

	tests := []struct {
		name    string
		in      elbv2.DescribeLoadBalancersInput
		want    []string
		wantErr string
	}{
		{name: "all", want: []string{albARN, nlbARN}},
		{name: "by arn", in: elbv2.DescribeLoadBalancersInput{LoadBalancerArns: []string{nlbARN}}, want: []string{nlbARN}},
		{name: "by names", in: elbv2.DescribeLoadBalancersInput{Names: []string{"green-tcp", "green-web"}}, want: []string{nlbARN, albARN}},
		{name: "unknown name", in: elbv2.DescribeLoadBalancersInput{Names: []string{"green-web", "nope"}}, wantErr: "LoadBalancerNotFound"},
		{name: "unknown arn", in: elbv2.DescribeLoadBalancersInput{LoadBalancerArns: []string{albARN + "0"}}, wantErr: "LoadBalancerNotFound"},
		{name: "names and arns", in: elbv2.DescribeLoadBalancersInput{Names: []string{"green-web"}, LoadBalancerArns: []string{albARN}}, wantErr: "ValidationError"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := c.DescribeLoadBalancers(ctx, &tt.in)
			if tt.wantErr != "" {
				wantAPIError(t, err, tt.wantErr)
				return
			}
			if err != nil {
				t.Fatalf("DescribeLoadBalancers: %v", err)
			}
			var got []string
			for _, lb := range out.LoadBalancers {
				got = append(got, aws.ToString(lb.LoadBalancerArn))
			}
			if !slices.Equal(got, tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}

	_, err = c.DescribeLoadBalancers(ctx, &elbv2.DescribeLoadBalancersInput{Names: []string{"nope"}})
	var nf *elbtypes.LoadBalancerNotFoundException
	if !errors.As(err, &nf) {
		t.Fatalf("want *types.LoadBalancerNotFoundException, got %T %v", err, err)
	}
}

func TestELBv2TargetHealth(t *testing.T) {
	ctx := context.Background()
	srv := awsfake.New(awsfake.Options{}).StartT(t)
	lbARN := srv.AddLoadBalancer(awsfake.LoadBalancer{Name: "green-web", VpcID: "vpc-1"})
	otherLB := srv.AddLoadBalancer(awsfake.LoadBalancer{Name: "blue-web", VpcID: "vpc-1"})
	tgARN, err := srv.AddTargetGroup(lbARN, "green-web-80", map[string]string{"10.0.1.10": "healthy", "10.0.2.20": "unhealthy"})
	if err != nil {
		t.Fatalf("AddTargetGroup: %v", err)
	}
	if _, err := srv.AddTargetGroup(otherLB, "blue-web-80", map[string]string{"i-0123456789abcdef0": "healthy"}); err != nil {
		t.Fatalf("AddTargetGroup: %v", err)
	}
	if _, err := srv.AddTargetGroup(lbARN+"0", "x", nil); err == nil {
		t.Fatal("AddTargetGroup on an unknown load balancer: want an error")
	}
	c := elbv2.NewFromConfig(srv.AWSConfig())

	tgs, err := c.DescribeTargetGroups(ctx, &elbv2.DescribeTargetGroupsInput{LoadBalancerArn: aws.String(lbARN)})
	if err != nil {
		t.Fatalf("DescribeTargetGroups: %v", err)
	}
	if len(tgs.TargetGroups) != 1 || aws.ToString(tgs.TargetGroups[0].TargetGroupArn) != tgARN ||
		aws.ToString(tgs.TargetGroups[0].TargetGroupName) != "green-web-80" || tgs.TargetGroups[0].TargetType != elbtypes.TargetTypeEnumIp ||
		!slices.Equal(tgs.TargetGroups[0].LoadBalancerArns, []string{lbARN}) {
		t.Fatalf("unexpected target groups %+v", tgs.TargetGroups)
	}
	_, err = c.DescribeTargetGroups(ctx, &elbv2.DescribeTargetGroupsInput{LoadBalancerArn: aws.String(lbARN + "0")})
	wantAPIError(t, err, "LoadBalancerNotFound")

	health := func(targets ...string) map[string]string {
		t.Helper()
		in := &elbv2.DescribeTargetHealthInput{TargetGroupArn: aws.String(tgARN)}
		for _, id := range targets {
			in.Targets = append(in.Targets, elbtypes.TargetDescription{Id: aws.String(id)})
		}
		out, err := c.DescribeTargetHealth(ctx, in)
		if err != nil {
			t.Fatalf("DescribeTargetHealth: %v", err)
		}
		got := map[string]string{}
		for _, d := range out.TargetHealthDescriptions {
			got[aws.ToString(d.Target.Id)] = string(d.TargetHealth.State) + "/" + string(d.TargetHealth.Reason)
		}
		return got
	}
	tests := []struct {
		name    string
		set     [2]string // target, state to set first
		targets []string
		want    map[string]string
	}{
		{name: "all", want: map[string]string{"10.0.1.10": "healthy/", "10.0.2.20": "unhealthy/Target.FailedHealthChecks"}},
		{name: "one", targets: []string{"10.0.1.10"}, want: map[string]string{"10.0.1.10": "healthy/"}},
		{name: "unregistered", targets: []string{"10.9.9.9"}, want: map[string]string{"10.9.9.9": "unused/Target.NotRegistered"}},
		{name: "recovered", set: [2]string{"10.0.2.20", "healthy"}, want: map[string]string{"10.0.1.10": "healthy/", "10.0.2.20": "healthy/"}},
		{name: "deregistered", set: [2]string{"10.0.1.10", ""}, want: map[string]string{"10.0.2.20": "healthy/"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.set[0] != "" {
				if err := srv.SetTargetHealth(tgARN, tt.set[0], tt.set[1]); err != nil {
					t.Fatalf("SetTargetHealth: %v", err)
				}
			}
			if got := health(tt.targets...); !maps.Equal(got, tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
	_, err = c.DescribeTargetHealth(ctx, &elbv2.DescribeTargetHealthInput{TargetGroupArn: aws.String(tgARN + "0")})
	var nf *elbtypes.TargetGroupNotFoundException
	if !errors.As(err, &nf) {
		t.Fatalf("want *types.TargetGroupNotFoundException, got %T %v", err, err)
	}
}
