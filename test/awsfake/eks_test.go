package awsfake_test

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	ekstypes "github.com/aws/aws-sdk-go-v2/service/eks/types"

	"github.com/bluegreen/bluegreen/test/awsfake"
)

const issuer = "https://oidc.eks.us-east-1.amazonaws.com/id/ABC"

func TestEKSDescribeCluster(t *testing.T) {
	ctx := context.Background()
	clock := awsfake.NewManualClock(epoch)
	srv := awsfake.New(awsfake.Options{Clock: clock.Now}).StartT(t)
	srv.AddCluster(awsfake.EKSCluster{
		Name: "green", Version: "1.29", VpcID: "vpc-1", SubnetIDs: []string{subnetA, subnetB},
		ClusterSecurityGroupID: sgCluster, OIDCIssuer: issuer, Endpoint: "https://green.example",
	})
	c := eks.NewFromConfig(srv.AWSConfig())

	out, err := c.DescribeCluster(ctx, &eks.DescribeClusterInput{Name: aws.String("green")})
	if err != nil {
		t.Fatalf("DescribeCluster: %v", err)
	}
	cl := out.Cluster
	vpc := cl.ResourcesVpcConfig
	if aws.ToString(cl.Name) != "green" || aws.ToString(cl.Version) != "1.29" || cl.Status != ekstypes.ClusterStatusActive ||
		aws.ToString(cl.Endpoint) != "https://green.example" || !cl.CreatedAt.Equal(epoch) ||
		aws.ToString(cl.Arn) != "arn:aws:eks:us-east-1:123456789012:cluster/green" {
		t.Fatalf("unexpected cluster %+v", cl)
	}
	if vpc == nil || aws.ToString(vpc.VpcId) != "vpc-1" || len(vpc.SubnetIds) != 2 || aws.ToString(vpc.ClusterSecurityGroupId) != sgCluster {
		t.Fatalf("unexpected vpc config %+v", vpc)
	}
	if cl.Identity == nil || cl.Identity.Oidc == nil || aws.ToString(cl.Identity.Oidc.Issuer) != issuer {
		t.Fatalf("unexpected identity %+v", cl.Identity)
	}

	_, err = c.DescribeCluster(ctx, &eks.DescribeClusterInput{Name: aws.String("nope")})
	var nf *ekstypes.ResourceNotFoundException
	if !errors.As(err, &nf) || aws.ToString(nf.ClusterName) != "nope" || nf.ErrorMessage() != "No cluster found for name: nope." {
		t.Fatalf("DescribeCluster(nope): want ResourceNotFoundException, got %v", err)
	}
}

func TestEKSDescribeAddon(t *testing.T) {
	ctx := context.Background()
	srv := awsfake.New(awsfake.Options{}).StartT(t)
	srv.AddCluster(awsfake.EKSCluster{Name: "blue", Version: "1.28"})
	if err := srv.AddAddon("blue", "aws-ebs-csi-driver", "v1.35.0-eksbuild.1"); err != nil {
		t.Fatalf("AddAddon: %v", err)
	}
	if err := srv.AddAddon("missing", "aws-ebs-csi-driver", "v1"); err == nil {
		t.Fatal("AddAddon on a cluster never added: want an error")
	}
	c := eks.NewFromConfig(srv.AWSConfig())

	tests := []struct {
		cluster, addon string
		wantVersion    string
		wantErr        bool
	}{
		{cluster: "blue", addon: "aws-ebs-csi-driver", wantVersion: "v1.35.0-eksbuild.1"},
		{cluster: "blue", addon: "vpc-cni", wantErr: true},
		{cluster: "missing", addon: "aws-ebs-csi-driver", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.cluster+"/"+tt.addon, func(t *testing.T) {
			out, err := c.DescribeAddon(ctx, &eks.DescribeAddonInput{ClusterName: aws.String(tt.cluster), AddonName: aws.String(tt.addon)})
			if tt.wantErr {
				var nf *ekstypes.ResourceNotFoundException
				if !errors.As(err, &nf) {
					t.Fatalf("want ResourceNotFoundException, got %v", err)
				}
				wantAPIError(t, err, "ResourceNotFoundException")
				return
			}
			if err != nil {
				t.Fatalf("DescribeAddon: %v", err)
			}
			a := out.Addon
			if aws.ToString(a.AddonVersion) != tt.wantVersion || aws.ToString(a.AddonName) != tt.addon ||
				aws.ToString(a.ClusterName) != tt.cluster || a.Status != ekstypes.AddonStatusActive {
				t.Fatalf("unexpected addon %+v", a)
			}
		})
	}
}
