package preflight

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/bluegreen/bluegreen/internal/awscluster"
	"github.com/bluegreen/bluegreen/test/awsfake"
)

// The AWS side of a migration that passes every check: clusters blue (A)
// and green (B) in one VPC, B's load balancer green-web in two subnets,
// weighted records with TTL 60 and a volume in us-east-1a.
const (
	vpcMain   = "vpc-0aaaaaaaaaaaaaaa1"
	vpcOther  = "vpc-0bbbbbbbbbbbbbbb2"
	subnetA   = "subnet-0aaaaaaaaaaaaaaa1" // 10.0.1.0/24, us-east-1a
	subnetB   = "subnet-0bbbbbbbbbbbbbbb2" // 10.0.2.0/24, us-east-1b
	subnetX   = "subnet-0ccccccccccccccc3" // in vpcOther
	sgBlue    = "sg-0aaaaaaaaaaaaaaa1"
	sgGreen   = "sg-0bbbbbbbbbbbbbbb2"
	sgLB      = "sg-0ccccccccccccccc3"
	issuerA   = "https://oidc.eks.us-east-1.amazonaws.com/id/BLUE"
	issuerB   = "https://oidc.eks.us-east-1.amazonaws.com/id/GREEN"
	csiV135   = "v1.35.0-eksbuild.1"
	volumeA   = "vol-0aaaaaaaaaaaaaaa1"
	appRecord = "app.example.com"
)

// world says how the AWS side differs from the passing baseline; the zero
// value is the baseline.
type world struct {
	vpcB           string                // B's VPC; "" = vpcMain
	subnetsB       []string              // B's subnets; nil = subnetA, subnetB
	issuerB        *string               // B's OIDC issuer; nil = issuerB
	oidcProviders  []string              // issuers with an IAM provider; nil = both clusters'
	oidcClientIDs  []string              // client IDs of B's provider; nil = sts.amazonaws.com
	addonA, addonB string                // EBS CSI add-on versions; "" = csiV135, "-" = none
	ttlGreen       int64                 // TTL of the green record; 0 = 60
	ingressB       []awsfake.IngressRule // B's cluster SG; nil = tcp from 10.0.0.0/16
	volumeAZ       string                // "" = us-east-1a
}

// start seeds a fresh fake as w says and returns it with an Input that
// points at it; the Kubernetes clients are left for the caller.
func (w world) start(t *testing.T) (*awsfake.Server, Input) {
	t.Helper()
	srv := awsfake.New(awsfake.Options{}).StartT(t)
	srv.AddSubnet(awsfake.Subnet{ID: subnetA, VpcID: vpcMain, CIDR: "10.0.1.0/24", AZ: "us-east-1a"})
	srv.AddSubnet(awsfake.Subnet{ID: subnetB, VpcID: vpcMain, CIDR: "10.0.2.0/24", AZ: "us-east-1b"})
	srv.AddSubnet(awsfake.Subnet{ID: subnetX, VpcID: vpcOther, CIDR: "172.31.0.0/24", AZ: "us-east-1a"})

	ingress := w.ingressB
	if ingress == nil {
		ingress = []awsfake.IngressRule{{Protocol: "tcp", FromPort: 0, ToPort: 65535, CIDRs: []string{"10.0.0.0/16"}}}
	}
	srv.AddSecurityGroup(awsfake.SecurityGroup{ID: sgBlue, VpcID: vpcMain})
	srv.AddSecurityGroup(awsfake.SecurityGroup{ID: sgGreen, VpcID: orDefault(w.vpcB, vpcMain), Ingress: ingress})
	srv.AddSecurityGroup(awsfake.SecurityGroup{ID: sgLB, VpcID: vpcMain})

	subnets := w.subnetsB
	if subnets == nil {
		subnets = []string{subnetA, subnetB}
	}
	issuer := issuerB
	if w.issuerB != nil {
		issuer = *w.issuerB
	}
	srv.AddCluster(awsfake.EKSCluster{Name: "blue", Version: "1.29", VpcID: vpcMain, SubnetIDs: []string{subnetA, subnetB},
		ClusterSecurityGroupID: sgBlue, OIDCIssuer: issuerA})
	srv.AddCluster(awsfake.EKSCluster{Name: "green", Version: "1.30", VpcID: orDefault(w.vpcB, vpcMain), SubnetIDs: subnets,
		ClusterSecurityGroupID: sgGreen, OIDCIssuer: issuer})
	for cluster, v := range map[string]string{"blue": w.addonA, "green": w.addonB} {
		if v == "-" {
			continue
		}
		if err := srv.AddAddon(cluster, "aws-ebs-csi-driver", orDefault(v, csiV135)); err != nil {
			t.Fatalf("AddAddon: %v", err)
		}
	}
	providers := w.oidcProviders
	if providers == nil {
		providers = []string{issuerA, issuerB}
	}
	for _, p := range providers {
		if p == issuerB {
			srv.AddOIDCProvider(p, w.oidcClientIDs...)
		} else {
			srv.AddOIDCProvider(p)
		}
	}

	srv.AddLoadBalancer(awsfake.LoadBalancer{Name: "green-web", VpcID: vpcMain, SubnetIDs: []string{subnetA, subnetB}, SecurityGroups: []string{sgLB}})

	zone := srv.AddHostedZone("example.com")
	ttlGreen := w.ttlGreen
	if ttlGreen == 0 {
		ttlGreen = 60
	}
	if err := srv.AddRecords(zone,
		awsfake.Record{Name: appRecord, Type: "CNAME", TTL: 60, Values: []string{"blue-web.example.net"}, SetIdentifier: "blue", Weight: aws.Int64(100)},
		awsfake.Record{Name: appRecord, Type: "CNAME", TTL: ttlGreen, Values: []string{"green-web.example.net"}, SetIdentifier: "green", Weight: aws.Int64(0)},
		awsfake.Record{Name: "www.example.com", Type: "A", Alias: &awsfake.Alias{DNSName: "green-web.example.net", HostedZoneID: "Z35SXDOTRQ7X7K"}},
		awsfake.Record{Name: "api.example.com", Type: "A", TTL: 60, Values: []string{"10.0.1.10"}},
	); err != nil {
		t.Fatalf("AddRecords: %v", err)
	}

	if _, err := srv.AddVolume(awsfake.Volume{ID: volumeA, AZ: orDefault(w.volumeAZ, "us-east-1a"), Size: 20}); err != nil {
		t.Fatalf("AddVolume: %v", err)
	}

	return srv, Input{
		Source:        Cluster{Name: "blue"},
		Target:        Cluster{Name: "green"},
		AWS:           awscluster.FromConfig(srv.AWSConfig()),
		Records:       []Record{{ZoneID: zone, Name: appRecord, Type: "CNAME"}},
		Volumes:       []Volume{{PV: "pvc-data-db-0", VolumeID: volumeA, StorageClass: "gp3"}},
		LoadBalancers: []string{"green-web"},
		MaxTTL:        DefaultMaxTTL,
	}
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// wantResult asserts a check's status and that its detail and hint hold
// every given substring.
func wantResult(t *testing.T, got Result, status Status, detail, hint []string) {
	t.Helper()
	if got.Status != status {
		t.Fatalf("status %s, want %s\ndetail: %s\nhint: %s", got.Status, status, got.Detail, got.Hint)
	}
	for _, s := range detail {
		if !strings.Contains(got.Detail, s) {
			t.Errorf("detail %q lacks %q", got.Detail, s)
		}
	}
	for _, s := range hint {
		if !strings.Contains(got.Hint, s) {
			t.Errorf("hint %q lacks %q", got.Hint, s)
		}
	}
	if status != Pass && got.Hint == "" {
		t.Errorf("a %s result needs a hint (detail %q)", status, got.Detail)
	}
}

// runCheck runs one check by name against in, as Run would.
func runCheck(t *testing.T, name string, in Input) Result {
	t.Helper()
	for _, c := range checks {
		if c.name == name {
			if in.MaxTTL == 0 {
				in.MaxTTL = DefaultMaxTTL
			}
			return runOne(t.Context(), c, &probe{in: in, clusters: map[string]describedCluster{}})
		}
	}
	t.Fatalf("no check %q", name)
	return Result{}
}
