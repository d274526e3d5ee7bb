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
	"github.com/aws/aws-sdk-go-v2/service/sns"
)

// SNS is the part of the SNS API release notifications use.
type SNS interface {
	Publish(ctx context.Context, in *sns.PublishInput, opts ...func(*sns.Options)) (*sns.PublishOutput, error)
}

// NewSNS is the SNS client of cfg.
func NewSNS(cfg sdkaws.Config) SNS { return sns.NewFromConfig(cfg) }

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

// Config loads the SDK's configuration with the standard credential
// chain: environment, shared config and credentials files (profiles, SSO),
// web identity (IRSA), container and instance roles. Every client built
// from it asks o.Gate before each call. Nothing is called until a client
// is used (unless o.RequireCredentials).
func Config(ctx context.Context, o Options) (sdkaws.Config, error) {
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
			return sdkaws.Config{}, fmt.Errorf("aws endpoint %q is not an absolute URL like https://host:port: fix --aws-endpoint", o.Endpoint)
		}
		lo = append(lo, config.WithBaseEndpoint(o.Endpoint))
	}
	cfg, err := config.LoadDefaultConfig(ctx, lo...)
	if err != nil {
		return sdkaws.Config{}, fmt.Errorf("load aws config: %w", err)
	}
	if cfg.Region == "" {
		return sdkaws.Config{}, fmt.Errorf("no aws region: set region in the migration spec, AWS_REGION, or the profile")
	}
	if o.RequireCredentials {
		if err := checkCredentials(ctx, cfg, o.Profile); err != nil {
			return sdkaws.Config{}, err
		}
	}
	if o.Gate != nil {
		cfg = cfg.Copy()
		cfg.APIOptions = append(cfg.APIOptions, gateWith(o.Gate))
	}
	return cfg, nil
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
