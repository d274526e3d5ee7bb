// Package unitsuite pins what `make unit` promises: the tests of the
// internal packages build and run with Go alone. A test that needs a local
// API server carries the build tag `testbed` and runs in `make test`.
package unitsuite

import (
	"os/exec"
	"strings"
	"testing"
)

// needsCluster are the packages that start local clusters.
var needsCluster = []string{
	"github.com/bluegreen/bluegreen/test/testbed",
	"github.com/bluegreen/bluegreen/test/migrationbed",
	"github.com/bluegreen/bluegreen/test/ebssim",
}

func TestUnitTestsNeedNoCluster(t *testing.T) {
	// -f prints, for each internal package, its own path and the
	// dependencies of its untagged tests.
	out, err := exec.Command("go", "list", "-test", "-deps", "-f", "{{.ImportPath}}", "github.com/bluegreen/bluegreen/internal/...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	deps := strings.Fields(string(out))
	for _, bad := range needsCluster {
		for _, d := range deps {
			if d == bad {
				t.Errorf("the untagged tests of internal/... import %s: move the test that starts a cluster behind //go:build testbed", bad)
			}
		}
	}
}
