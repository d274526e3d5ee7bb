package preflight

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/aws/smithy-go"

	"github.com/bluegreen/bluegreen/internal/traffic"
)

func TestNames(t *testing.T) {
	want := []string{"same-vpc", "oidc-provider", "lb-controller", "ebs-csi-version", "storage-class", "record-ttl", "record-values", "security-groups", "volume-zones"}
	if got := Names(); !slices.Equal(got, want) {
		t.Fatalf("Names() = %v, want %v", got, want)
	}
}

func TestFailed(t *testing.T) {
	tests := []struct {
		name string
		rs   []Result
		want bool
	}{
		{"none", nil, false},
		{"pass and warn", []Result{{Status: Pass}, {Status: Warn}}, false},
		{"one fail", []Result{{Status: Pass}, {Status: Fail}}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Failed(tt.rs); got != tt.want {
				t.Fatalf("Failed = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestRunWithoutClients: an empty Input fails every check that needs a
// client, with a hint, instead of stopping or panicking.
func TestRunWithoutClients(t *testing.T) {
	rs := Run(context.Background(), Input{Source: Cluster{Name: "blue"}, Target: Cluster{Name: "green"},
		Records: []Record{{ZoneID: "Z1", Name: appRecord, Type: "CNAME"}}, Targets: []traffic.Target{{Name: appRecord}}, Volumes: []Volume{{PV: "pv", VolumeID: volumeA, StorageClass: "gp3"}}})
	if len(rs) != len(Names()) {
		t.Fatalf("got %d results, want %d", len(rs), len(Names()))
	}
	for i, r := range rs {
		if r.Name != Names()[i] {
			t.Errorf("result %d is %q, want %q", i, r.Name, Names()[i])
		}
		if r.Status != Fail || !strings.HasPrefix(r.Detail, "no ") || r.Hint == "" {
			t.Errorf("%s: %s %q (hint %q), want a fail naming the missing client", r.Name, r.Status, r.Detail, r.Hint)
		}
	}
	if !Failed(rs) {
		t.Fatal("Failed = false")
	}
}

func TestPanickingCheckFails(t *testing.T) {
	r := runOne(context.Background(), check{name: "boom", run: func(context.Context, *probe) Result { panic("nil map") }}, &probe{})
	if r.Status != Fail || !strings.Contains(r.Detail, "check boom panicked: nil map") {
		t.Fatalf("got %+v", r)
	}
}

func TestErrorResult(t *testing.T) {
	tests := []struct {
		name       string
		err        error
		wantDetail string
		wantHint   string
	}{
		{"access denied", apiError("eks:DescribeCluster", "green", &smithy.GenericAPIError{Code: "AccessDeniedException", Message: "not authorized"}),
			"eks:DescribeCluster green: AccessDeniedException: not authorized", "allow eks:DescribeCluster"},
		{"ec2 unauthorized", apiError("ec2:DescribeSubnets", "subnet-1", &smithy.GenericAPIError{Code: "UnauthorizedOperation", Message: "no"}),
			"ec2:DescribeSubnets subnet-1: UnauthorizedOperation: no", "allow ec2:DescribeSubnets"},
		{"not an API error", apiError("iam:ListOpenIDConnectProviders", "", errors.New("dial tcp: connection refused")),
			"connection refused", "credentials, region and endpoint"},
		{"missing input", errNoClient("EC2"), "no EC2 client configured", "give preflight"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := errorResult(tt.err)
			if r.Status != Fail || !strings.Contains(r.Detail, tt.wantDetail) || !strings.Contains(r.Hint, tt.wantHint) {
				t.Fatalf("got %+v, want detail with %q and hint with %q", r, tt.wantDetail, tt.wantHint)
			}
		})
	}
}

func TestHelpers(t *testing.T) {
	tests := []struct {
		name, got, want string
	}{
		{"image tag", imageTag("public.ecr.aws/ebs-csi-driver/aws-ebs-csi-driver:v1.35.0"), "v1.35.0"},
		{"image tag with registry port", imageTag("registry:5000/ebs:v1.2.3"), "v1.2.3"},
		{"image without tag", imageTag("registry:5000/ebs"), "latest"},
		{"image with digest", imageTag("ebs:v1.2.3@sha256:" + strings.Repeat("ab", 32)), "v1.2.3"},
		{"driver of add-on", driverVersion{version: "v1.35.0-eksbuild.2"}.driver(), "v1.35.0"},
		{"in-tree volume id", volumeID("aws://us-east-1a/vol-0aaaaaaaaaaaaaaa1"), volumeA},
		{"csi volume id", volumeID(volumeA), volumeA},
		{"escaped name", unescapeName(`\052.example.com.`), "*.example.com."},
		{"fqdn", fqdn(" App.Example.com"), "app.example.com."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Fatalf("got %q, want %q", tt.got, tt.want)
			}
		})
	}
}
