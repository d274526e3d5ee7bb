package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
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
		"github.com/aws/aws-sdk-go-v2/service/iam",
		"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2",
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

// bluegreen's own packages do no work at initialization that a command may
// not need (compiling regular expressions, building tables): it runs before
// every command. They may register themselves and make small maps; 16 KiB
// allocated in all is far above that and far below one regular expression
// of the kind that checks a URL (a package-level one took 38 KiB).
func TestOwnPackagesInitializeLightly(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "bluegreen")
	if out, err := exec.Command("go", "build", "-tags", "lean", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "version")
	cmd.Env = append(os.Environ(), "GODEBUG=inittrace=1")
	var trace bytes.Buffer
	cmd.Stderr = &trace
	if err := cmd.Run(); err != nil {
		t.Fatalf("bluegreen version: %v\n%s", err, trace.String())
	}
	// init github.com/bluegreen/bluegreen/internal/plan @10 ms, 0.013 ms clock, 4576 bytes, 51 allocs
	total, seen := 0, 0
	var each []string
	for line := range strings.Lines(trace.String()) {
		f := strings.Fields(line)
		if len(f) < 9 || f[0] != "init" || !strings.HasPrefix(f[1], "github.com/bluegreen/bluegreen/") {
			continue
		}
		n, err := strconv.Atoi(f[7])
		if err != nil || f[8] != "bytes," {
			t.Fatalf("cannot read the init trace line %q", line)
		}
		total += n
		seen++
		each = append(each, fmt.Sprintf("%s %d B", strings.TrimPrefix(f[1], "github.com/bluegreen/bluegreen/"), n))
	}
	if seen == 0 {
		t.Fatalf("no init trace of bluegreen's packages in:\n%s", trace.String())
	}
	if total > 16<<10 {
		t.Errorf("bluegreen's packages allocate %d bytes initializing (%s); make package-level work lazy (sync.OnceValue)", total, strings.Join(each, ", "))
	}
}
