package awsfake_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/bluegreen/bluegreen/test/awsfake"
)

func TestIAMOIDCProviders(t *testing.T) {
	ctx := context.Background()
	clock := awsfake.NewManualClock(epoch)
	srv := awsfake.New(awsfake.Options{Clock: clock.Now}).StartT(t)
	c := iam.NewFromConfig(srv.AWSConfig())

	list, err := c.ListOpenIDConnectProviders(ctx, &iam.ListOpenIDConnectProvidersInput{})
	if err != nil || len(list.OpenIDConnectProviderList) != 0 {
		t.Fatalf("ListOpenIDConnectProviders on an empty account: %v, %+v", err, list)
	}

	arn := srv.AddOIDCProvider(issuer)
	if want := "arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/ABC"; arn != want {
		t.Fatalf("AddOIDCProvider = %s, want %s", arn, want)
	}
	if again := srv.AddOIDCProvider(issuer); again != arn {
		t.Fatalf("second AddOIDCProvider = %s, want %s", again, arn)
	}
	other := srv.AddOIDCProvider("https://token.actions.githubusercontent.com", "sigstore", "api://AzureADTokenExchange")

	list, err = c.ListOpenIDConnectProviders(ctx, &iam.ListOpenIDConnectProvidersInput{})
	if err != nil {
		t.Fatalf("ListOpenIDConnectProviders: %v", err)
	}
	if len(list.OpenIDConnectProviderList) != 2 || aws.ToString(list.OpenIDConnectProviderList[0].Arn) != arn ||
		aws.ToString(list.OpenIDConnectProviderList[1].Arn) != other {
		t.Fatalf("providers %+v", list.OpenIDConnectProviderList)
	}

	tests := []struct {
		name, arn     string
		wantURL       string
		wantClientIDs []string
		wantErr       string
	}{
		{name: "eks", arn: arn, wantURL: "oidc.eks.us-east-1.amazonaws.com/id/ABC", wantClientIDs: []string{"sts.amazonaws.com"}},
		{name: "client ids", arn: other, wantURL: "token.actions.githubusercontent.com", wantClientIDs: []string{"sigstore", "api://AzureADTokenExchange"}},
		{name: "unknown", arn: "arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/XYZ", wantErr: "NoSuchEntity"},
		{name: "not an arn", arn: "oidc.example", wantErr: "InvalidInput"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := c.GetOpenIDConnectProvider(ctx, &iam.GetOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String(tt.arn)})
			if tt.wantErr != "" {
				wantAPIError(t, err, tt.wantErr)
				if tt.wantErr == "NoSuchEntity" {
					var nse *iamtypes.NoSuchEntityException
					if !errors.As(err, &nse) {
						t.Fatalf("want *types.NoSuchEntityException, got %T", err)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("GetOpenIDConnectProvider: %v", err)
			}
			if aws.ToString(out.Url) != tt.wantURL || !slices.Equal(out.ClientIDList, tt.wantClientIDs) ||
				len(out.ThumbprintList) != 1 || !out.CreateDate.Equal(epoch) {
				t.Fatalf("unexpected provider %+v", out)
			}
		})
	}
}
