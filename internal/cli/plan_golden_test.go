package cli

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"k8s.io/utils/ptr"

	"github.com/bluegreen/bluegreen/internal/journal"
	"github.com/bluegreen/bluegreen/internal/plan"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func goldenObserved() plan.ServiceObserved {
	return plan.ServiceObserved{
		Namespace: "prod", NamespaceExists: true,
		Active:  &plan.ServiceInfo{Name: "shop", Selector: map[string]string{"app": "shop", "track": "blue"}},
		Preview: &plan.ServiceInfo{Name: "shop-preview", Selector: map[string]string{"app": "shop", "track": "green"}},
		Deployments: map[plan.Color]*plan.DeploymentInfo{
			plan.Blue: {Name: "shop-blue", Replicas: 3, ReadyReplicas: 3, Containers: []plan.ContainerInfo{{Name: "app", Image: "registry.example.com/shop:1.0.0"}},
				HPA: &plan.HPAInfo{Name: "shop-blue", MinReplicas: 2, MaxReplicas: 6}},
			plan.Green: {Name: "shop-green", Containers: []plan.ContainerInfo{{Name: "app", Image: "registry.example.com/shop:0.9.0"}}},
		},
	}
}

// TestPlanGolden pins the text and JSON of `bluegreen plan`: the runbook a
// user reviews before a release. Refresh with `go test ./internal/cli -update`.
func TestPlanGolden(t *testing.T) {
	rel := plan.ServiceRelease{App: "shop", Namespace: "prod", Image: "registry.example.com/shop:2.0.0", Approval: "pause",
		Env: map[string]string{"FEATURE_X": "on"}, PreviewURL: "http://shop-preview.prod.svc", ActiveURL: "https://shop.example.com",
		WatchWindow: plan.Duration(5 * 60e9), ScaleDownDelay: plan.Duration(30 * 60e9), KeepWarm: ptr.To[int32](1)}
	rel.Defaults()
	steps, err := plan.ServiceDeploy(goldenObserved(), rel)
	if err != nil {
		t.Fatal(err)
	}
	r := &journal.Run{Operation: "deploy", Namespace: "prod", App: "shop", Steps: steps}
	for _, output := range []string{"text", "json"} {
		t.Run(output, func(t *testing.T) {
			var out bytes.Buffer
			g := &Global{Output: output, out: &out}
			if err := g.printPlan(r); err != nil {
				t.Fatal(err)
			}
			assertGolden(t, filepath.Join("testdata", "plan-deploy."+output), out.Bytes())
		})
	}
}

// assertGolden compares got with the golden file at path, rewriting it
// first under -update.
func assertGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (create it with -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("output differs from %s (refresh with -update if intended):\n%s", path, got)
	}
}
