// Package awscluster holds the clients of the AWS APIs the cluster scope
// uses (EC2, Route 53, EKS, IAM, ELBv2). It is apart from package aws,
// which loads the configuration and builds the SNS client notifications
// use, so that a command of another scope links none of these APIs (Go
// initializes every linked package at start, whatever the command).
package awscluster

import (
	"context"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	r53sdk "github.com/aws/aws-sdk-go-v2/service/route53"
	"golang.org/x/time/rate"

	bgaws "github.com/bluegreen/bluegreen/internal/aws"
)

// EC2 is the part of the EC2 API the stateful hand-off and preflight use.
type EC2 interface {
	DescribeVolumes(ctx context.Context, in *ec2.DescribeVolumesInput, opts ...func(*ec2.Options)) (*ec2.DescribeVolumesOutput, error)
	DetachVolume(ctx context.Context, in *ec2.DetachVolumeInput, opts ...func(*ec2.Options)) (*ec2.DetachVolumeOutput, error)
	CreateSnapshot(ctx context.Context, in *ec2.CreateSnapshotInput, opts ...func(*ec2.Options)) (*ec2.CreateSnapshotOutput, error)
	DescribeSnapshots(ctx context.Context, in *ec2.DescribeSnapshotsInput, opts ...func(*ec2.Options)) (*ec2.DescribeSnapshotsOutput, error)
	CreateTags(ctx context.Context, in *ec2.CreateTagsInput, opts ...func(*ec2.Options)) (*ec2.CreateTagsOutput, error)
	DeleteTags(ctx context.Context, in *ec2.DeleteTagsInput, opts ...func(*ec2.Options)) (*ec2.DeleteTagsOutput, error)
	DescribeSecurityGroups(ctx context.Context, in *ec2.DescribeSecurityGroupsInput, opts ...func(*ec2.Options)) (*ec2.DescribeSecurityGroupsOutput, error)
	DescribeSubnets(ctx context.Context, in *ec2.DescribeSubnetsInput, opts ...func(*ec2.Options)) (*ec2.DescribeSubnetsOutput, error)
}

// Route53 is the part of the Route 53 API the weighted-record router uses.
type Route53 interface {
	ListResourceRecordSets(ctx context.Context, in *r53sdk.ListResourceRecordSetsInput, opts ...func(*r53sdk.Options)) (*r53sdk.ListResourceRecordSetsOutput, error)
	ChangeResourceRecordSets(ctx context.Context, in *r53sdk.ChangeResourceRecordSetsInput, opts ...func(*r53sdk.Options)) (*r53sdk.ChangeResourceRecordSetsOutput, error)
	GetChange(ctx context.Context, in *r53sdk.GetChangeInput, opts ...func(*r53sdk.Options)) (*r53sdk.GetChangeOutput, error)
}

// EKS is the part of the EKS API preflight reads.
type EKS interface {
	DescribeCluster(ctx context.Context, in *eks.DescribeClusterInput, opts ...func(*eks.Options)) (*eks.DescribeClusterOutput, error)
	DescribeAddon(ctx context.Context, in *eks.DescribeAddonInput, opts ...func(*eks.Options)) (*eks.DescribeAddonOutput, error)
}

// IAM is the part of the IAM API preflight reads (OIDC providers for IRSA).
type IAM interface {
	ListOpenIDConnectProviders(ctx context.Context, in *iam.ListOpenIDConnectProvidersInput, opts ...func(*iam.Options)) (*iam.ListOpenIDConnectProvidersOutput, error)
	GetOpenIDConnectProvider(ctx context.Context, in *iam.GetOpenIDConnectProviderInput, opts ...func(*iam.Options)) (*iam.GetOpenIDConnectProviderOutput, error)
}

// ELBv2 is the part of the Elastic Load Balancing v2 API preflight and the
// target-health check read.
type ELBv2 interface {
	DescribeLoadBalancers(ctx context.Context, in *elbv2.DescribeLoadBalancersInput, opts ...func(*elbv2.Options)) (*elbv2.DescribeLoadBalancersOutput, error)
	DescribeTargetGroups(ctx context.Context, in *elbv2.DescribeTargetGroupsInput, opts ...func(*elbv2.Options)) (*elbv2.DescribeTargetGroupsOutput, error)
	DescribeTargetHealth(ctx context.Context, in *elbv2.DescribeTargetHealthInput, opts ...func(*elbv2.Options)) (*elbv2.DescribeTargetHealthOutput, error)
}

// Clients holds one client per AWS API, all for one region.
type Clients struct {
	Region  string
	EC2     EC2
	Route53 Route53
	EKS     EKS
	IAM     IAM
	ELBv2   ELBv2

	limits limiters
}

// Load builds the clients with the standard credential chain (see
// aws.Config). Nothing is called until a client is used.
func Load(ctx context.Context, o bgaws.Options) (*Clients, error) {
	cfg, err := bgaws.Config(ctx, o)
	if err != nil {
		return nil, err
	}
	return FromConfig(cfg), nil
}

// FromConfig builds the clients from an aws.Config. The EC2 and Route 53
// clients keep under those APIs' request quotas (see limiters).
func FromConfig(cfg sdkaws.Config) *Clients {
	l := newLimiters()
	return &Clients{
		Region: cfg.Region,
		limits: l,
		EC2: ec2.NewFromConfig(cfg, func(o *ec2.Options) {
			o.APIOptions = append(o.APIOptions, limitWith(l.EC2.of))
		}),
		Route53: r53sdk.NewFromConfig(cfg, func(o *r53sdk.Options) {
			o.APIOptions = append(o.APIOptions, limitWith(func(string) *rate.Limiter { return l.Route53 }))
		}),
		EKS:   eks.NewFromConfig(cfg),
		IAM:   iam.NewFromConfig(cfg),
		ELBv2: elbv2.NewFromConfig(cfg),
	}
}
