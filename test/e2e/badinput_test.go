package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// snapshot maps every object of the namespace that bluegreen could write
// (Deployments, Services, autoscalers, Leases, Events) to its resourceVersion.
func (e *env) snapshot() map[string]string {
	e.t.Helper()
	ctx := context.Background()
	out := map[string]string{}
	add := func(kind, name, rv string) { out[kind+"/"+name] = rv }
	ds, err := e.kube.AppsV1().Deployments(e.ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		e.t.Fatal(err)
	}
	for _, o := range ds.Items {
		add("deployment", o.Name, o.ResourceVersion)
	}
	ss, err := e.kube.CoreV1().Services(e.ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		e.t.Fatal(err)
	}
	for _, o := range ss.Items {
		add("service", o.Name, o.ResourceVersion)
	}
	hs, err := e.kube.AutoscalingV2().HorizontalPodAutoscalers(e.ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		e.t.Fatal(err)
	}
	for _, o := range hs.Items {
		add("hpa", o.Name, o.ResourceVersion)
	}
	ls, err := e.kube.CoordinationV1().Leases(e.ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		e.t.Fatal(err)
	}
	for _, o := range ls.Items {
		add("lease", o.Name, o.ResourceVersion)
	}
	evs, err := e.kube.CoreV1().Events(e.ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		e.t.Fatal(err)
	}
	for _, o := range evs.Items {
		if o.Source.Component == "bluegreen" {
			add("event", o.Name, o.ResourceVersion)
		}
	}
	return out
}

func TestBadInputChangesNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.givenBlueGreenApp("shop", v1, 2)
	// A second app whose Services are broken in the ways users break them.
	e.givenBlueGreenApp("cart", v1, 1)
	e.patchSelector("cart", "canary")
	e.givenBlueGreenApp("same", v1, 1)
	e.patchSelector("same-preview", "blue")
	e.givenBlueGreenApp("down", v1, 1)
	e.scale("down-blue", 0)
	e.waitReady("down-blue", 0)

	spec := filepath.Join(t.TempDir(), "release.yaml")
	if err := os.WriteFile(spec, []byte("app: shop\nimage: "+v2+"\nimagePullPolicy: Always\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	unreachable := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(unreachable, []byte(fmt.Sprintf(deadKubeconfig, freePort(t))), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want string
		env  []string
	}{
		{"unknown app", []string{"deploy", "nosuch", "--image", v2, "--yes"}, "active Service " + e.ns + "/nosuch not found", nil},
		{"unknown namespace", []string{"deploy", "shop", "--image", v2, "--yes", "-n", "no-such-ns"}, `namespace "no-such-ns" does not exist`, nil},
		{"missing preview service", []string{"deploy", "shop", "--image", v2, "--yes", "--preview-service", "gone"}, "preview Service not found", nil},
		{"selector matches neither color", []string{"deploy", "cart", "--image", v2, "--yes"}, `selector track="canary" matches neither color`, nil},
		{"active and preview on the same color", []string{"deploy", "same", "--image", v2, "--yes"}, "both select track=blue", nil},
		{"active color has zero ready pods", []string{"deploy", "down", "--image", v2, "--yes"}, "zero ready pods", nil},
		{"invalid image", []string{"deploy", "shop", "--image", "Registry/Shop:2!", "--yes"}, "not a valid image reference", nil},
		{"spec with unknown field", []string{"deploy", "-f", spec, "--yes"}, `unknown field "imagePullPolicy"`, nil},
		{"unreachable cluster", []string{"deploy", "shop", "--image", v2, "--yes", "--kubeconfig", unreachable}, "is unreachable", nil},
		{"unreachable cluster on rollback", []string{"rollback", "shop", "--kubeconfig", unreachable}, "is unreachable", nil},
		{"unreachable cluster on abort", []string{"abort", "shop", "--kubeconfig", unreachable}, "is unreachable", nil},
		{"no approval mode without a terminal", []string{"deploy", "shop", "--image", v2}, "pass --yes", nil},
		{name: "non-numeric HEALTH_CHECK_RETRIES", args: []string{"deploy", "shop", "--image", v2, "--yes"}, want: "HEALTH_CHECK_RETRIES", env: []string{"HEALTH_CHECK_RETRIES=many"}},
		{"unknown kubeconfig context", []string{"deploy", "shop", "--image", v2, "--yes", "--context", "nosuch"}, `kubeconfig has no context "nosuch"`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := e.snapshot()
			r := e.cli(tt.env, tt.args...)
			if r.code == 0 || !strings.Contains(r.stderr, tt.want) {
				t.Fatalf("want non-zero exit and %q in the message, got %s", tt.want, r)
			}
			if after := e.snapshot(); !reflect.DeepEqual(before, after) {
				t.Fatalf("the cluster changed:\nbefore %v\nafter  %v", before, after)
			}
		})
	}
}

const deadKubeconfig = `apiVersion: v1
kind: Config
clusters:
- name: dead
  cluster: {server: "https://127.0.0.1:%d", insecure-skip-tls-verify: true}
contexts:
- name: dead
  context: {cluster: dead, user: dead}
current-context: dead
users:
- name: dead
  user: {token: not-a-secret}
`

func (e *env) patchSelector(svc, track string) {
	e.t.Helper()
	ctx := context.Background()
	s, err := e.kube.CoreV1().Services(e.ns).Get(ctx, svc, metav1.GetOptions{})
	if err != nil {
		e.t.Fatal(err)
	}
	s.Spec.Selector["track"] = track
	if _, err := e.kube.CoreV1().Services(e.ns).Update(ctx, s, metav1.UpdateOptions{}); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) scale(name string, n int32) {
	e.t.Helper()
	ctx := context.Background()
	d, err := e.kube.AppsV1().Deployments(e.ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		e.t.Fatal(err)
	}
	d.Spec.Replicas = &n
	if _, err := e.kube.AppsV1().Deployments(e.ns).Update(ctx, d, metav1.UpdateOptions{}); err != nil {
		e.t.Fatal(err)
	}
}
