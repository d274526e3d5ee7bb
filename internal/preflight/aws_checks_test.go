package preflight

import (
	"testing"

	"github.com/bluegreen/bluegreen/test/awsfake"
)

// The checks in this file read only AWS, so they run against the fake
// alone, without clusters.

func TestSameVPC(t *testing.T) {
	tests := []struct {
		name         string
		w            world
		target       string
		status       Status
		detail, hint []string
	}{
		{name: "same vpc", status: Pass, detail: []string{vpcMain, subnetA, subnetB}},
		{name: "B in another vpc", w: world{vpcB: vpcOther}, status: Fail,
			detail: []string{"A (blue) is in VPC " + vpcMain, "B (green) is in VPC " + vpcOther}, hint: []string{"one VPC"}},
		{name: "a subnet of B outside the vpc", w: world{subnetsB: []string{subnetA, subnetX}}, status: Fail,
			detail: []string{subnetX + " (VPC " + vpcOther + ")"}, hint: []string{"update-cluster-config"}},
		{name: "unknown subnet", w: world{subnetsB: []string{"subnet-0ddddddddddddddd4"}}, status: Fail,
			detail: []string{"ec2:DescribeSubnets", "InvalidSubnetID.NotFound"}},
		{name: "unknown cluster", target: "nope", status: Fail,
			detail: []string{"eks:DescribeCluster nope: ResourceNotFoundException"}, hint: []string{"EKS cluster name"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, in := tt.w.start(t)
			if tt.target != "" {
				in.Target.Name = tt.target
			}
			wantResult(t, runCheck(t, "same-vpc", in), tt.status, tt.detail, tt.hint)
		})
	}
}

func TestOIDCProvider(t *testing.T) {
	noIssuer := ""
	tests := []struct {
		name         string
		w            world
		status       Status
		detail, hint []string
	}{
		{name: "provider exists", status: Pass, detail: []string{"oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/GREEN"}},
		{name: "no provider for B", w: world{oidcProviders: []string{issuerA}}, status: Fail,
			detail: []string{"no IAM OIDC provider", issuerB}, hint: []string{"eksctl utils associate-iam-oidc-provider --cluster green --approve"}},
		{name: "no providers at all", w: world{oidcProviders: []string{}}, status: Fail,
			detail: []string{"among 0 providers"}, hint: []string{"associate-iam-oidc-provider"}},
		{name: "B has no issuer", w: world{issuerB: &noIssuer}, status: Fail,
			detail: []string{"no OIDC issuer"}, hint: []string{"associate-iam-oidc-provider"}},
		{name: "provider without the sts audience", w: world{oidcClientIDs: []string{"example"}}, status: Warn,
			detail: []string{"lacks the audience sts.amazonaws.com"}, hint: []string{"add-client-id-to-open-id-connect-provider"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, in := tt.w.start(t)
			wantResult(t, runCheck(t, "oidc-provider", in), tt.status, tt.detail, tt.hint)
		})
	}
}

func TestRecordTTL(t *testing.T) {
	tests := []struct {
		name         string
		w            world
		records      []Record // nil = the weighted app record
		maxTTL       int64
		status       Status
		detail, hint []string
	}{
		{name: "ttl 60", status: Pass, detail: []string{"app.example.com. CNAME (blue) TTL 60", "(green) TTL 60"}},
		{name: "ttl 300", w: world{ttlGreen: 300}, status: Fail,
			detail: []string{"(green) has TTL 300", "limit is 60"}, hint: []string{"wait out the old TTL (300 s)"}},
		{name: "lower limit", maxTTL: 30, status: Fail, detail: []string{"(blue) has TTL 60", "(green) has TTL 60"}},
		{name: "alias record", records: []Record{{Name: "www.example.com", Type: "a"}}, status: Pass,
			detail: []string{"www.example.com. A alias, TTL of its target"}},
		{name: "simple record next to the weighted ones", records: []Record{{Name: "API.example.com.", Type: "A"}}, status: Pass,
			detail: []string{"api.example.com. A TTL 60"}},
		{name: "no record yet", records: []Record{{Name: "new.example.com", Type: "A"}}, status: Fail,
			detail: []string{"no record set yet for new.example.com. A"}, hint: []string{"weight 100", "weight 0"}},
		{name: "one color's record set missing", records: []Record{{Name: appRecord, Type: "CNAME", SetIdentifiers: []string{"blue", "cluster-b"}}}, status: Fail,
			detail: []string{"no record set yet for app.example.com. CNAME (cluster-b)"}, hint: []string{"set identifier"}},
		{name: "both colors' record sets", records: []Record{{Name: appRecord, Type: "CNAME", SetIdentifiers: []string{"blue", "green"}}}, status: Pass,
			detail: []string{"(blue) TTL 60", "(green) TTL 60"}},
		{name: "unknown zone", records: []Record{{ZoneID: "/hostedzone/ZNOPE", Name: appRecord, Type: "CNAME"}}, status: Fail,
			detail: []string{"route53:ListResourceRecordSets", "NoSuchHostedZone"}},
		{name: "no records", records: []Record{}, status: Pass, detail: []string{"no records to shift"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, in := tt.w.start(t)
			if tt.records != nil {
				zone := in.Records[0].ZoneID
				in.Records = tt.records
				for i := range in.Records {
					if in.Records[i].ZoneID == "" {
						in.Records[i].ZoneID = zone
					}
				}
			}
			in.MaxTTL = tt.maxTTL
			wantResult(t, runCheck(t, "record-ttl", in), tt.status, tt.detail, tt.hint)
		})
	}
}

func TestSecurityGroups(t *testing.T) {
	rule := func(proto string, cidrs []string, groups ...string) []awsfake.IngressRule {
		return []awsfake.IngressRule{{Protocol: proto, FromPort: 0, ToPort: 65535, CIDRs: cidrs, SourceGroups: groups}}
	}
	tests := []struct {
		name         string
		w            world
		lbs          []string // nil = green-web
		status       Status
		detail, hint []string
	}{
		{name: "vpc cidr", status: Pass, detail: []string{subnetA + " (10.0.1.0/24) via 10.0.0.0/16", subnetB + " (10.0.2.0/24) via 10.0.0.0/16"}},
		{name: "load balancer security group", w: world{ingressB: rule("-1", nil, sgLB)}, status: Pass,
			detail: []string{"via " + sgLB}},
		{name: "anywhere", w: world{ingressB: rule("tcp", []string{"0.0.0.0/0"})}, status: Pass, detail: []string{"via 0.0.0.0/0"}},
		{name: "one subnet uncovered", w: world{ingressB: rule("tcp", []string{"10.0.1.0/24"})}, status: Fail,
			detail: []string{"admits no traffic from " + subnetB + " (10.0.2.0/24) of load balancers green-web"},
			hint:   []string{"authorize-security-group-ingress --group-id " + sgGreen}},
		{name: "narrower rule", w: world{ingressB: rule("tcp", []string{"10.0.1.0/25", "10.0.2.128/25"})}, status: Fail,
			detail: []string{subnetA, subnetB}},
		{name: "icmp only", w: world{ingressB: rule("icmp", []string{"10.0.0.0/16"})}, status: Fail, detail: []string{subnetA, subnetB}},
		{name: "another group", w: world{ingressB: rule("-1", nil, sgBlue)}, status: Fail, detail: []string{subnetA, subnetB}},
		{name: "no ingress", w: world{ingressB: []awsfake.IngressRule{}}, status: Fail, detail: []string{sgGreen}},
		{name: "cluster subnets when no load balancer is named", lbs: []string{}, status: Pass,
			detail: []string{"every subnet of cluster B (green)"}},
		{name: "unknown load balancer", lbs: []string{"nope"}, status: Fail,
			detail: []string{"elasticloadbalancing:DescribeLoadBalancers nope: LoadBalancerNotFound"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, in := tt.w.start(t)
			if tt.lbs != nil {
				in.LoadBalancers = tt.lbs
			}
			wantResult(t, runCheck(t, "security-groups", in), tt.status, tt.detail, tt.hint)
		})
	}
}
