package run

import (
	"os/exec"
	"strings"
	"testing"
)

// Go initializes every linked package when a program starts, whatever the
// command: the AWS SDK's EC2, Route 53, EKS, IAM and ELBv2 packages cost a
// service-scope command ~3 ms of start-up each time for APIs only a
// migration calls. Package run, and package traffic that every scope
// imports, link none of them (the cluster scope's half is in
// run/clusterscope and awscluster).
func TestLinksNoClusterScopeAWSAPI(t *testing.T) {
	for _, pkg := range []string{".", "../traffic", "../service", "../notify"} {
		out, err := exec.Command("go", "list", "-deps", pkg).Output()
		if err != nil {
			t.Fatalf("go list -deps %s: %v", pkg, err)
		}
		for _, dep := range strings.Fields(string(out)) {
			for _, api := range []string{"ec2", "route53", "eks", "iam", "elasticloadbalancingv2"} {
				if dep == "github.com/aws/aws-sdk-go-v2/service/"+api {
					t.Errorf("%s links %s; keep cluster-scope AWS clients in internal/awscluster", pkg, dep)
				}
			}
		}
	}
}
