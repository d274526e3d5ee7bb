package e2e

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/yaml"

	"github.com/bluegreen/bluegreen/internal/gitops"
	"github.com/bluegreen/bluegreen/test/servicebed"
)

// An app that Argo CD manages is not adopted without --allow-gitops-owned:
// the refusal names the tool and the fix and changes nothing. With the
// flag, init warns, and the colors and the preview it creates carry none of
// Argo CD's tracking labels (Argo CD would prune them).
func TestGitOpsOwnedAppIsRefusedThenAdoptedClean(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	if err := servicebed.InstallPlain(ctx, e.kube, e.ns, "web", v1, 2); err != nil {
		t.Fatal(err)
	}
	e.waitReady("web", 2)
	argo := []byte(`{"metadata":{"labels":{"` + gitops.ArgoInstanceLabel + `":"web-prod"},"annotations":{"` + gitops.ArgoTrackingID + `":"web-prod:apps/Deployment:x/web"}}}`)
	if _, err := e.kube.AppsV1().Deployments(e.ns).Patch(ctx, "web", types.MergePatchType, argo, metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.kube.CoreV1().Services(e.ns).Patch(ctx, "web", types.MergePatchType, argo, metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	before := e.snapshot()

	r := e.cli(nil, "init", "web")
	if r.code != 2 || !strings.Contains(r.stderr, "managed by Argo CD") || !strings.Contains(r.stderr, "ignoreDifferences") || !strings.Contains(r.stderr, "--allow-gitops-owned") {
		t.Fatalf("want a refusal naming Argo CD and the fix, got %s", r)
	}
	if after := e.snapshot(); len(after) != len(before) {
		t.Fatalf("the refused init changed the namespace: %v → %v", before, after)
	}

	r = e.mustCLI("init", "web", "--allow-gitops-owned")
	if !strings.Contains(r.stderr, "GitOps") {
		t.Fatalf("want a warning about the GitOps tool:\n%s", r)
	}
	for _, name := range []string{"web-blue", "web-green"} {
		d, err := e.kube.AppsV1().Deployments(e.ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if _, owned := gitops.OwnerOf(d); owned {
			t.Errorf("%s carries a GitOps tracking label or annotation: %v %v", name, d.Labels, d.Annotations)
		}
	}
	p, err := e.kube.CoreV1().Services(e.ns).Get(ctx, "web-preview", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, owned := gitops.OwnerOf(p); owned {
		t.Errorf("the preview Service carries a GitOps tracking label: %v", p.Labels)
	}
}

// A release whose active Service a Flux Kustomization applies is refused,
// naming Flux; the flag lets it through.
func TestDeployOfAFluxManagedServiceNeedsTheFlag(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	e.givenBlueGreenApp("shop", v1, 2)
	flux := []byte(`{"metadata":{"labels":{"` + gitops.FluxKustomize + `":"apps","` + gitops.FluxKustomizeNS + `":"flux-system"}}}`)
	if _, err := e.kube.CoreV1().Services(e.ns).Patch(ctx, "shop", types.MergePatchType, flux, metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	r := e.cli(nil, "deploy", "shop", "--image", v2, "--yes")
	if r.code != 2 || !strings.Contains(r.stderr, "service/shop is managed by Flux (Kustomization flux-system/apps)") {
		t.Fatalf("want a refusal naming Flux, got %s", r)
	}
	if s := e.state("shop"); s.GreenImage == v2 {
		t.Fatalf("the refused release changed green: %+v", s)
	}
	e.mustCLI("deploy", "shop", "--image", v2, "--yes", "--allow-gitops-owned")
	if s := e.state("shop"); s.ActiveSelects != "green" {
		t.Fatalf("with --allow-gitops-owned: %+v", s)
	}
}

// `init --emit-manifests` writes the layout instead of applying it; the
// files apply cleanly (server-side, as `kubectl apply --server-side
// --force-conflicts` does when a tool takes the fields over) and yield the
// same layout `init` creates.
func TestInitEmitsTheLayoutItWouldCreate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	byInit, byFiles := newEnv(t), newEnv(t)
	for _, e := range []*env{byInit, byFiles} {
		if err := servicebed.InstallPlain(ctx, e.kube, e.ns, "web", v1, 2); err != nil {
			t.Fatal(err)
		}
		e.waitReady("web", 2)
	}
	byInit.mustCLI("init", "web")

	dir := t.TempDir()
	before := byFiles.snapshot()
	out := byFiles.mustCLI("init", "web", "--emit-manifests", dir)
	if after := byFiles.snapshot(); len(after) != len(before) || byFiles.resourceVersion("service", "web") != before["service/web"] {
		t.Fatalf("--emit-manifests changed the cluster")
	}
	// init --dry-run -o yaml prints the same objects as one List, as
	// kubectl create --dry-run=client -o yaml does; kubectl takes it back,
	// and the API server admits it.
	list := byFiles.mustCLI("init", "web", "--dry-run", "-o", "yaml").stdout
	for mode, says := range map[string]string{"client": "(dry run)", "server": "(server dry run)"} {
		applied := kubectlIn(t, list, "apply", "-n", byFiles.ns, "--dry-run="+mode, "-f", "-")
		for _, obj := range []string{"deployment.apps/web-blue", "deployment.apps/web-green", "service/web-preview", "service/web"} {
			if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(obj) + ` (created|configured) ` + regexp.QuoteMeta(says) + `$`).MatchString(applied) {
				t.Fatalf("kubectl apply --dry-run=%s of init -o yaml: want %s\n%s\n%s", mode, obj, applied, list)
			}
		}
	}
	if after := byFiles.snapshot(); len(after) != len(before) || byFiles.resourceVersion("service", "web") != before["service/web"] {
		t.Fatalf("init --dry-run -o yaml changed the cluster")
	}

	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil || len(files) != 4 {
		t.Fatalf("want 4 files (two Deployments, two Services), got %v %v\n%s", files, err, out)
	}
	dyn, err := dynamic.NewForConfig(cluster.Config)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		u := &unstructured.Unstructured{}
		if err := yaml.Unmarshal(data, &u.Object); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		gvr := schema.GroupVersionResource{Group: u.GroupVersionKind().Group, Version: u.GroupVersionKind().Version,
			Resource: strings.ToLower(u.GetKind()) + "s"}
		js, _ := u.MarshalJSON()
		if _, err := dyn.Resource(gvr).Namespace(byFiles.ns).Patch(ctx, u.GetName(), types.ApplyPatchType, js,
			metav1.PatchOptions{FieldManager: "kubectl", Force: ptr.To(true)}); err != nil {
			t.Fatalf("apply %s: %v", filepath.Base(f), err)
		}
	}
	byFiles.waitReady("web-blue", 2)
	if got, want := byFiles.state("web"), byInit.state("web"); got != want {
		t.Fatalf("the applied manifests give %+v, init gives %+v", got, want)
	}
}
