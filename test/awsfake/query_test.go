package awsfake_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/bluegreen/bluegreen/test/awsfake"
)

// TestUnsupportedOperations checks that every protocol answers an
// operation the fake does not implement with a clear InvalidAction error
// that the real SDK clients decode.
func TestUnsupportedOperations(t *testing.T) {
	ctx := context.Background()
	srv := awsfake.New(awsfake.Options{}).StartT(t)
	cfg := srv.AWSConfig()
	tests := []struct {
		name string
		call func() error
	}{
		{"ec2 DescribeInstances", func() error {
			_, err := ec2.NewFromConfig(cfg).DescribeInstances(ctx, &ec2.DescribeInstancesInput{})
			return err
		}},
		{"eks ListClusters", func() error {
			_, err := eks.NewFromConfig(cfg).ListClusters(ctx, &eks.ListClustersInput{})
			return err
		}},
		{"eks ListAddons", func() error {
			_, err := eks.NewFromConfig(cfg).ListAddons(ctx, &eks.ListAddonsInput{ClusterName: aws.String("x")})
			return err
		}},
		{"iam ListRoles", func() error {
			_, err := iam.NewFromConfig(cfg).ListRoles(ctx, &iam.ListRolesInput{})
			return err
		}},
		{"elbv2 DescribeListeners", func() error {
			_, err := elbv2.NewFromConfig(cfg).DescribeListeners(ctx, &elbv2.DescribeListenersInput{})
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantAPIError(t, tt.call(), "InvalidAction")
		})
	}
}

func TestUnknownQueryVersion(t *testing.T) {
	srv := awsfake.New(awsfake.Options{}).StartT(t)
	tests := []struct {
		name       string
		method     string
		form       url.Values
		wantStatus int
		wantBody   string
	}{
		{"unknown version", http.MethodPost, url.Values{"Action": {"GetCallerIdentity"}, "Version": {"2011-06-15"}}, http.StatusBadRequest, "Version &#34;2011-06-15&#34;"},
		{"no version", http.MethodPost, url.Values{"Action": {"DescribeVolumes"}}, http.StatusBadRequest, "<Code>InvalidAction</Code>"},
		{"GET", http.MethodGet, nil, http.StatusMethodNotAllowed, "<Code>InvalidAction</Code>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(tt.method, srv.URL()+"/", strings.NewReader(tt.form.Encode()))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.wantStatus || !strings.Contains(string(body), tt.wantBody) {
				t.Fatalf("status %d body %s; want %d containing %q", resp.StatusCode, body, tt.wantStatus, tt.wantBody)
			}
		})
	}
}
