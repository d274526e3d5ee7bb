// Package chart tests the Helm chart in charts/bluegreen as Helm renders
// it: lint, the objects of each install mode, the values it refuses, and
// that the controller's rights stay within the service scope's shipped
// role. Installing it on a cluster is an end-to-end test (test/e2e).
package chart

import (
	"errors"
	"io"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"testing"

	"helm.sh/helm/v4/pkg/action"
	"helm.sh/helm/v4/pkg/chart/loader"
	"helm.sh/helm/v4/pkg/chart/v2/lint/support"
	release "helm.sh/helm/v4/pkg/release/v1"
	"helm.sh/helm/v4/pkg/storage"
	"helm.sh/helm/v4/pkg/storage/driver"
	appsv1 "k8s.io/api/apps/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	"github.com/bluegreen/bluegreen/deploy"
)

const chartDir = "../../charts/bluegreen"

// objects is a rendered chart: kind/namespace/name → the object's YAML.
type objects map[string][]byte

func (o objects) names(kind string) []string {
	var out []string
	for k := range o {
		if strings.HasPrefix(k, kind+"/") {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

func (o objects) decode(t *testing.T, key string, into any) {
	t.Helper()
	data, ok := o[key]
	if !ok {
		t.Fatalf("the chart rendered no %s; it rendered %v", key, slices.Sorted(maps.Keys(o)))
	}
	if err := yaml.UnmarshalStrict(data, into); err != nil {
		t.Fatalf("%s: %v", key, err)
	}
}

// render renders the chart as `helm template` does, as release "bg" in
// namespace bluegreen-system.
func render(t *testing.T, vals map[string]any) (objects, error) {
	t.Helper()
	ch, err := loader.Load(chartDir)
	if err != nil {
		t.Fatal(err)
	}
	cfg := action.NewConfiguration()
	cfg.Releases = storage.Init(driver.NewMemory())
	cfg.SetLogger(slog.DiscardHandler)
	in := action.NewInstall(cfg)
	in.DryRunStrategy, in.Replace = action.DryRunClient, true
	in.ReleaseName, in.Namespace = "bg", "bluegreen-system"
	r, err := in.Run(ch, vals)
	if err != nil {
		return nil, err
	}
	rel, ok := r.(*release.Release)
	if !ok {
		t.Fatalf("install returned a %T", r)
	}
	out := objects{}
	dec := utilyaml.NewYAMLOrJSONDecoder(strings.NewReader(rel.Manifest), 4096)
	for {
		var m struct {
			Kind     string `json:"kind"`
			Metadata struct {
				Name, Namespace string
			} `json:"metadata"`
		}
		var raw map[string]any
		if err := dec.Decode(&raw); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("rendered manifest: %v\n%s", err, rel.Manifest)
		}
		if raw == nil {
			continue
		}
		data, err := yaml.Marshal(raw)
		if err != nil {
			t.Fatal(err)
		}
		if err := yaml.Unmarshal(data, &m); err != nil {
			t.Fatal(err)
		}
		out[m.Kind+"/"+m.Metadata.Namespace+"/"+m.Metadata.Name] = data
	}
	return out, nil
}

func TestChartLints(t *testing.T) {
	for _, vals := range []map[string]any{nil, {"watchNamespaces": []any{"shop"}}} {
		res := action.NewLint()
		res.Strict, res.Namespace = true, "bluegreen-system"
		got := res.Run([]string{chartDir}, vals)
		for _, m := range got.Messages {
			if m.Severity > support.InfoSev {
				t.Errorf("helm lint (values %v): %s", vals, m.Error())
			}
		}
		if len(got.Errors) > 0 {
			t.Errorf("helm lint (values %v): %v", vals, got.Errors)
		}
	}
}

// Installed cluster-wide (the default), the controller's role is bound by
// a ClusterRoleBinding; with watchNamespaces, by a RoleBinding in each of
// them and nowhere else, and the controller is told to watch those alone.
func TestChartInstallModes(t *testing.T) {
	tests := []struct {
		name         string
		vals         map[string]any
		roleBindings []string
		clusterWide  bool
		watchArgs    []string
	}{
		{name: "cluster-wide", clusterWide: true,
			roleBindings: []string{"RoleBinding/bluegreen-system/bg-bluegreen-leader-election"}},
		{name: "namespaced", vals: map[string]any{"watchNamespaces": []any{"shop", "payments"}},
			roleBindings: []string{"RoleBinding/bluegreen-system/bg-bluegreen-leader-election",
				"RoleBinding/payments/bg-bluegreen-controller", "RoleBinding/shop/bg-bluegreen-controller"},
			watchArgs: []string{"--watch-namespace=shop", "--watch-namespace=payments"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o, err := render(t, tc.vals)
			if err != nil {
				t.Fatal(err)
			}
			if got := o.names("RoleBinding"); !slices.Equal(got, tc.roleBindings) {
				t.Errorf("RoleBindings = %v, want %v", got, tc.roleBindings)
			}
			crbs := o.names("ClusterRoleBinding")
			want := []string{"ClusterRoleBinding//bg-bluegreen-cluster-identity"}
			if tc.clusterWide {
				want = append(want, "ClusterRoleBinding//bg-bluegreen-controller")
				slices.Sort(want)
			}
			if !slices.Equal(crbs, want) {
				t.Errorf("ClusterRoleBindings = %v, want %v", crbs, want)
			}
			var d appsv1.Deployment
			o.decode(t, "Deployment/bluegreen-system/bg-bluegreen", &d)
			if *d.Spec.Replicas != 2 {
				t.Errorf("replicas = %d, want 2", *d.Spec.Replicas)
			}
			c := d.Spec.Template.Spec.Containers[0]
			var watch []string
			for _, a := range c.Args {
				if strings.HasPrefix(a, "--watch-namespace=") {
					watch = append(watch, a)
				}
			}
			if !slices.Equal(watch, tc.watchArgs) {
				t.Errorf("watch arguments = %v, want %v", watch, tc.watchArgs)
			}
			for _, a := range []string{"controller", "--leader-elect", "--lease-namespace=bluegreen-system", "--shutdown-grace=30s",
				"--kube-api-qps=100", "--kube-api-burst=200"} {
				if !slices.Contains(c.Args, a) {
					t.Errorf("args %v lack %s", c.Args, a)
				}
			}
			if g := *d.Spec.Template.Spec.TerminationGracePeriodSeconds; g != 45 {
				t.Errorf("terminationGracePeriodSeconds = %d, want 45 (the shutdown grace and 15 s)", g)
			}
			if d.Spec.Template.Spec.ServiceAccountName != "bg-bluegreen" {
				t.Errorf("serviceAccountName = %q", d.Spec.Template.Spec.ServiceAccountName)
			}
			if _, ok := o["PodDisruptionBudget/bluegreen-system/bg-bluegreen"]; !ok {
				t.Errorf("no PodDisruptionBudget for two replicas")
			}
			if len(o.names("ServiceMonitor")) != 0 {
				t.Errorf("a ServiceMonitor without metrics.serviceMonitor.enabled")
			}
		})
	}
}

func TestChartServiceMonitor(t *testing.T) {
	o, err := render(t, map[string]any{"metrics": map[string]any{"serviceMonitor": map[string]any{"enabled": true, "labels": map[string]any{"release": "prom"}}}})
	if err != nil {
		t.Fatal(err)
	}
	var sm struct {
		Metadata struct{ Labels map[string]string }
		Spec     struct {
			Endpoints []struct{ Port, Path string }
		}
	}
	data := o["ServiceMonitor/bluegreen-system/bg-bluegreen"]
	if err := yaml.Unmarshal(data, &sm); err != nil || len(sm.Spec.Endpoints) != 1 || sm.Spec.Endpoints[0].Port != "metrics" ||
		sm.Spec.Endpoints[0].Path != "/metrics" || sm.Metadata.Labels["release"] != "prom" {
		t.Fatalf("ServiceMonitor (%v):\n%s", err, data)
	}
}

// Values that would install something broken are refused by the chart,
// naming the value and the fix.
func TestChartRefusesBadValues(t *testing.T) {
	tests := []struct {
		name string
		vals map[string]any
		want string
	}{
		{"replicas without a leader", map[string]any{"leaderElection": map[string]any{"enabled": false}},
			"replicaCount > 1 needs leaderElection.enabled"},
		{"grace in hours", map[string]any{"shutdownGrace": "1h"}, `shutdownGrace "1h": give whole seconds or minutes`},
		{"monitor without its Service", map[string]any{"metrics": map[string]any{"service": map[string]any{"enabled": false},
			"serviceMonitor": map[string]any{"enabled": true}}}, "metrics.serviceMonitor.enabled needs metrics.service.enabled"},
		{"no account named", map[string]any{"serviceAccount": map[string]any{"create": false}},
			"serviceAccount.name is required when serviceAccount.create is false"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := render(t, tc.vals)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("render = %v, want an error naming %q", err, tc.want)
			}
		})
	}
}

// The controller may do what a release's steps need and no more: every
// right of the chart's controller role is one the shipped service-scope
// role grants, except reading releases, writing their status and putting
// Events on them.
func TestChartRightsStayWithinTheServiceScope(t *testing.T) {
	o, err := render(t, nil)
	if err != nil {
		t.Fatal(err)
	}
	var chartRole rbacv1.ClusterRole
	o.decode(t, "ClusterRole//bg-bluegreen-controller", &chartRole)
	cr, err := deploy.ClusterRole("service-scope.yaml", "bluegreen-service")
	if err != nil {
		t.Fatal(err)
	}
	shipped := map[string]bool{}
	for _, k := range rights(cr.Rules) {
		shipped[k] = true
	}
	if len(shipped) == 0 {
		t.Fatal("no rules in the shipped ClusterRole bluegreen-service")
	}
	// The controller's own: the releases, and Events on them.
	own := func(k string) bool {
		return strings.HasPrefix(k, "bluegreen.dev/bluegreenreleases") || k == "events.k8s.io/events create" || k == "events.k8s.io/events patch"
	}
	for _, k := range rights(chartRole.Rules) {
		if own(k) {
			continue
		}
		if !shipped[k] {
			t.Errorf("the chart's controller may %s; the service scope's role may not", k)
		}
	}
	for _, k := range []string{"bluegreen.dev/bluegreenreleases watch", "bluegreen.dev/bluegreenreleases/status patch"} {
		if !slices.Contains(rights(chartRole.Rules), k) {
			t.Errorf("the chart's controller may not %s", k)
		}
	}
}

// rights flattens rules to "group/resource verb" (resource names make a
// right narrower, and none of these roles uses them).
func rights(rules []rbacv1.PolicyRule) []string {
	var out []string
	for _, r := range rules {
		for _, g := range r.APIGroups {
			for _, res := range r.Resources {
				for _, v := range r.Verbs {
					out = append(out, strings.TrimPrefix(g+"/"+res, "/")+" "+v)
				}
			}
		}
	}
	return out
}
