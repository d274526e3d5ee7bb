package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/route53"

	"github.com/bluegreen/bluegreen/test/awsfake"
)

func TestLoadSeed(t *testing.T) {
	ctx := context.Background()
	seed, err := readSeed(filepath.Join("testdata", "seed.json"))
	if err != nil {
		t.Fatalf("readSeed: %v", err)
	}
	srv := awsfake.New(awsfake.Options{}).StartT(t)
	ids, err := load(srv, seed)
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	cfg := srv.AWSConfig()

	cl, err := eks.NewFromConfig(cfg).DescribeCluster(ctx, &eks.DescribeClusterInput{Name: aws.String("green")})
	if err != nil || aws.ToString(cl.Cluster.ResourcesVpcConfig.ClusterSecurityGroupId) != "sg-0bbbbbbbbbbbbbbb2" ||
		aws.ToString(cl.Cluster.Identity.Oidc.Issuer) != "https://oidc.eks.us-east-1.amazonaws.com/id/GREEN" {
		t.Fatalf("DescribeCluster(green): %v %+v", err, cl)
	}
	addon, err := eks.NewFromConfig(cfg).DescribeAddon(ctx, &eks.DescribeAddonInput{ClusterName: aws.String("blue"), AddonName: aws.String("aws-ebs-csi-driver")})
	if err != nil || aws.ToString(addon.Addon.AddonVersion) != "v1.35.0-eksbuild.1" {
		t.Fatalf("DescribeAddon: %v %+v", err, addon)
	}
	greenARN := ids.OIDCProviders["https://oidc.eks.us-east-1.amazonaws.com/id/GREEN"]
	if _, err := iam.NewFromConfig(cfg).GetOpenIDConnectProvider(ctx, &iam.GetOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String(greenARN)}); err != nil {
		t.Fatalf("GetOpenIDConnectProvider(%s): %v", greenARN, err)
	}
	ec2c := ec2.NewFromConfig(cfg)
	sgs, err := ec2c.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{GroupIds: []string{"sg-0bbbbbbbbbbbbbbb2"}})
	if err != nil || len(sgs.SecurityGroups[0].IpPermissions) != 1 || aws.ToInt32(sgs.SecurityGroups[0].IpPermissions[0].ToPort) != 65535 {
		t.Fatalf("DescribeSecurityGroups: %v %+v", err, sgs)
	}
	vols, err := ec2c.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{VolumeIds: []string{"vol-0aaaaaaaaaaaaaaa1"}})
	if err != nil || vols.Volumes[0].State != ec2types.VolumeStateInUse || aws.ToInt32(vols.Volumes[0].Size) != 20 ||
		aws.ToString(vols.Volumes[0].Attachments[0].InstanceId) != "i-0aaaaaaaaaaaaaaa1" {
		t.Fatalf("DescribeVolumes: %v %+v", err, vols)
	}
	lbs, err := elbv2.NewFromConfig(cfg).DescribeLoadBalancers(ctx, &elbv2.DescribeLoadBalancersInput{Names: []string{"green-web"}})
	if err != nil || aws.ToString(lbs.LoadBalancers[0].LoadBalancerArn) != ids.LoadBalancers["green-web"] ||
		aws.ToString(lbs.LoadBalancers[0].AvailabilityZones[1].ZoneName) != "us-east-1b" {
		t.Fatalf("DescribeLoadBalancers: %v %+v", err, lbs)
	}
	th, err := elbv2.NewFromConfig(cfg).DescribeTargetHealth(ctx, &elbv2.DescribeTargetHealthInput{TargetGroupArn: aws.String(ids.TargetGroups["green-web-80"])})
	if err != nil || len(th.TargetHealthDescriptions) != 2 {
		t.Fatalf("DescribeTargetHealth: %v %+v", err, th)
	}
	rrs, err := route53.NewFromConfig(cfg).ListResourceRecordSets(ctx, &route53.ListResourceRecordSetsInput{HostedZoneId: aws.String(ids.HostedZones["example.com"])})
	if err != nil || len(rrs.ResourceRecordSets) != 4 { // NS, SOA and the weighted pair
		t.Fatalf("ListResourceRecordSets: %v %+v", err, rrs)
	}
}

func TestSeedErrors(t *testing.T) {
	tests := []struct {
		name, json, wantErr string
	}{
		{"unknown field", `{"clusters": [{"name": "a", "vpc": "vpc-1"}]}`, `unknown field "vpc"`},
		{"not json", `{`, "parse seed"},
		{"addon of a missing cluster", `{"addons": [{"cluster": "x", "name": "vpc-cni", "version": "v1"}]}`, "cluster x was not added"},
		{"volume on a missing instance", `{"volumes": [{"id": "vol-00000000000000001", "az": "us-east-1a", "instanceId": "i-1"}]}`, "instance i-1 was not added"},
		{"invalid record", `{"hostedZones": {"example.com": [{"name": "a.example.com", "type": "A", "ttl": 60, "values": ["10.0.0.1"], "weight": 5}]}}`, "SetIdentifier"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "seed.json")
			if err := os.WriteFile(path, []byte(tt.json), 0o600); err != nil {
				t.Fatal(err)
			}
			seed, err := readSeed(path)
			if err == nil {
				_, err = load(awsfake.New(awsfake.Options{}), seed)
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("got error %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestRunServesUntilCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	var runErr error
	finished := make(chan struct{})
	go func() {
		runErr = run(ctx, []string{"--listen", "127.0.0.1:0", "--seed", filepath.Join("testdata", "seed.json")}, pw)
		pw.Close()
		close(finished)
	}()
	wait := func() bool {
		select {
		case <-finished:
			return true
		case <-time.After(10 * time.Second):
			return false
		}
	}
	t.Cleanup(func() {
		cancel()
		if !wait() {
			t.Error("run did not return after cancel")
		}
	})

	lines := bufio.NewScanner(pr)
	if !lines.Scan() {
		t.Fatalf("no URL line: %v", lines.Err())
	}
	url := lines.Text()
	if !strings.HasPrefix(url, "http://127.0.0.1:") {
		t.Fatalf("first line %q, want http://127.0.0.1:PORT", url)
	}
	if !lines.Scan() {
		t.Fatalf("no IDs line: %v", lines.Err())
	}
	var ids IDs
	if err := json.Unmarshal(lines.Bytes(), &ids); err != nil || ids.LoadBalancers["green-web"] == "" {
		t.Fatalf("IDs line %q: %v", lines.Text(), err)
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()

	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", ""), BaseEndpoint: aws.String(url)}
	out, err := eks.NewFromConfig(cfg).DescribeCluster(context.Background(), &eks.DescribeClusterInput{Name: aws.String("blue")})
	if err != nil || aws.ToString(out.Cluster.Version) != "1.29" {
		t.Fatalf("DescribeCluster through the served fake: %v %+v", err, out)
	}
	cancel()
	if !wait() {
		t.Fatal("run did not return after cancel")
	}
	if runErr != nil {
		t.Fatalf("run: %v", runErr)
	}
}
