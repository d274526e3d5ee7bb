package aws

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"time"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	r53sdk "github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"golang.org/x/time/rate"
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

// SNS is the part of the SNS API release notifications use.
type SNS interface {
	Publish(ctx context.Context, in *sns.PublishInput, opts ...func(*sns.Options)) (*sns.PublishOutput, error)
}

// Clients holds one client per AWS API, all for one region.
type Clients struct {
	Region  string
	EC2     EC2
	Route53 Route53
	EKS     EKS
	IAM     IAM
	ELBv2   ELBv2
	SNS     SNS

	limits limiters
}

// Options say how to reach AWS.
type Options struct {
	// Region overrides the region of the shared config (AWS_REGION, profile).
	Region string
	// Profile selects a named profile of the shared config files.
	Profile string
	// Endpoint, when set, sends every API call to this base URL instead of
	// the AWS endpoints (a VPC endpoint proxy, or a local fake in tests).
	Endpoint string
	// Gate, when set, is asked before every call; a non-nil answer fails
	// the call unsent. A run that lost its lock closes its gate, so that
	// not one more AWS call leaves the process (see kube.Fence).
	Gate func() error
	// RequireCredentials resolves the credentials in Load, so that a
	// machine with none fails there, saying where it looked, rather than
	// at its first call.
	RequireCredentials bool
}

// ErrNoCredentials means the credential chain found no credentials.
var ErrNoCredentials = errors.New("no AWS credentials found")

// Load builds the clients with the standard credential chain: environment,
// shared config and credentials files (profiles, SSO), web identity (IRSA),
// container and instance roles. Nothing is called until a client is used.
func Load(ctx context.Context, o Options) (*Clients, error) {
	var lo []func(*config.LoadOptions) error
	if o.Region != "" {
		lo = append(lo, config.WithRegion(o.Region))
	}
	if o.Profile != "" {
		lo = append(lo, config.WithSharedConfigProfile(o.Profile))
	}
	if o.Endpoint != "" {
		u, err := url.Parse(o.Endpoint)
		if err != nil || u.Scheme == "" || u.Host == "" {
			return nil, fmt.Errorf("aws endpoint %q is not an absolute URL like https://host:port: fix --aws-endpoint", o.Endpoint)
		}
		lo = append(lo, config.WithBaseEndpoint(o.Endpoint))
	}
	cfg, err := config.LoadDefaultConfig(ctx, lo...)
	if err != nil {
		return nil, fmt.Errorf("load aws config: %w", err)
	}
	if cfg.Region == "" {
		return nil, fmt.Errorf("no aws region: set region in the migration spec, AWS_REGION, or the profile")
	}
	if o.RequireCredentials {
		if err := checkCredentials(ctx, cfg, o.Profile); err != nil {
			return nil, err
		}
	}
	c := FromConfig(cfg)
	if o.Gate != nil {
		c = fromConfig(cfg, o.Gate)
	}
	return c, nil
}

// checkCredentials resolves cfg's credentials once (the SDK caches them
// for the clients), naming every place the chain looks when none is found.
func checkCredentials(ctx context.Context, cfg sdkaws.Config, profile string) error {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	var err error
	if cfg.Credentials == nil {
		err = errors.New("no credential provider")
	} else {
		_, err = cfg.Credentials.Retrieve(ctx)
	}
	if err == nil {
		return nil
	}
	if profile == "" {
		profile = os.Getenv("AWS_PROFILE")
	}
	if profile == "" {
		profile = "default"
	}
	return fmt.Errorf("%w for region %s: looked in AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, profile %q of %s and %s, "+
		"web identity (AWS_WEB_IDENTITY_TOKEN_FILE, as EKS IRSA sets it), container credentials (EKS Pod Identity, ECS) and the instance's role; "+
		"fix: `aws configure` or `aws sso login --profile NAME`, then --aws-profile NAME (or AWS_PROFILE), or export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (%w)",
		ErrNoCredentials, cfg.Region, profile, envOr("AWS_SHARED_CREDENTIALS_FILE", config.DefaultSharedCredentialsFilename()),
		envOr("AWS_CONFIG_FILE", config.DefaultSharedConfigFilename()), err)
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// FromConfig builds the clients from an aws.Config. The EC2 and Route 53
// clients keep under those APIs' request quotas (see limiters).
func FromConfig(cfg sdkaws.Config) *Clients { return fromConfig(cfg, nil) }

func fromConfig(cfg sdkaws.Config, gate func() error) *Clients {
	l := newLimiters()
	if gate != nil {
		cfg = cfg.Copy()
		cfg.APIOptions = append(cfg.APIOptions, gateWith(gate))
	}
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
		SNS:   sns.NewFromConfig(cfg),
	}
}
