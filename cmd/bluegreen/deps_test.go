package main

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// The binary must not link html/template: executing a template calls
// methods by name (reflect's MethodByName), so the linker keeps every
// exported method of every type. When the dashboard's pages used it, the
// binary grew from 62 to 138 MB and the controller's resident memory by
// 27 MiB. (text/template's parser alone, which client-go's JSONPath
// links, does not execute templates and costs nothing of the kind.)
func TestBinaryLinksNoTemplateExecution(t *testing.T) {
	for _, flags := range [][]string{nil, {"-tags", "lean"}} {
		if slices.Contains(deps(t, flags...), "html/template") {
			t.Errorf("bluegreen %v links html/template; write the output without it (see internal/dashboard/pages.go)", flags)
		}
	}
}

// The lean build, the bluegreen people type, links neither the cluster
// scope (EC2, Route 53, EKS, IAM, ELBv2) nor the controller
// (controller-runtime, Prometheus): their package initialization added
// 7.5 ms to the start of every command. bluegreen-full, the complete
// build, has them.
func TestLeanBuildLinksNoClusterScopeOrController(t *testing.T) {
	lean := deps(t, "-tags", "lean")
	full := deps(t)
	for _, pkg := range []string{
		"github.com/bluegreen/bluegreen/internal/awscluster",
		"github.com/bluegreen/bluegreen/internal/run/clusterscope",
		"github.com/bluegreen/bluegreen/internal/controller",
		"github.com/bluegreen/bluegreen/internal/traffic/route53",
		"github.com/aws/aws-sdk-go-v2/service/ec2",
		"github.com/aws/aws-sdk-go-v2/service/route53",
		"github.com/aws/aws-sdk-go-v2/service/eks",
		"sigs.k8s.io/controller-runtime",
		"github.com/prometheus/client_golang/prometheus",
	} {
		if slices.Contains(lean, pkg) {
			t.Errorf("the lean build links %s; keep it to the commands of bluegreen-full (see internal/cli/companion.go)", pkg)
		}
		if !slices.Contains(full, pkg) {
			t.Errorf("the complete build does not link %s: is this list out of date?", pkg)
		}
	}
}

// deps lists the packages the command links, built with flags.
func deps(t *testing.T, flags ...string) []string {
	t.Helper()
	out, err := exec.Command("go", append(append([]string{"list", "-deps"}, flags...), ".")...).Output()
	if err != nil {
		t.Fatalf("go list -deps %v: %v", flags, err)
	}
	return strings.Fields(string(out))
}
