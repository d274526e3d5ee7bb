package e2e

import (
	"context"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"

	authv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/yaml"

	"github.com/bluegreen/bluegreen/deploy"
	"github.com/bluegreen/bluegreen/internal/clock"
	"github.com/bluegreen/bluegreen/internal/journal"
	"github.com/bluegreen/bluegreen/internal/runstore"
	"github.com/bluegreen/bluegreen/test/servicebed"
	"github.com/bluegreen/bluegreen/test/testbed"
)

// applyShippedRBAC applies deploy/rbac/service-scope.yaml as the cluster
// admin, and the CRD, which a cluster admin installs once.
func (e *env) applyShippedRBAC() {
	e.t.Helper()
	applyRBAC(e.t, cluster, "rbac/service-scope.yaml")
}

// applyRBAC applies the CRD and the shipped roles in file (under deploy/)
// to c, as its admin.
func applyRBAC(t *testing.T, c *testbed.Cluster, file string) {
	t.Helper()
	ctx := context.Background()
	dyn, err := dynamic.NewForConfig(c.Config)
	if err != nil {
		t.Fatal(err)
	}
	if err := runstore.EnsureCRD(ctx, clock.Real{}, dyn); err != nil {
		t.Fatal(err)
	}
	data, err := fs.ReadFile(deploy.RBAC, file)
	if err != nil {
		t.Fatal(err)
	}
	gvr := schema.GroupVersionResource{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "clusterroles"}
	for _, doc := range strings.Split(string(data), "\n---\n") {
		u := &unstructured.Unstructured{}
		if err := yaml.Unmarshal([]byte(doc), &u.Object); err != nil {
			t.Fatal(err)
		}
		js, _ := u.MarshalJSON()
		force := true
		if _, err := dyn.Resource(gvr).Patch(ctx, u.GetName(), types.ApplyPatchType, js, metav1.PatchOptions{FieldManager: "e2e", Force: &force}); err != nil {
			t.Fatalf("apply %s: %v", u.GetName(), err)
		}
	}
}

// serviceAccount creates a ServiceAccount bound to role (a ClusterRole,
// through a RoleBinding in the env's namespace) and to the cluster
// identity role, and returns a machine using only its token.
func (e *env) serviceAccount(name, role string) machine {
	e.t.Helper()
	ctx := context.Background()
	if _, err := e.kube.CoreV1().ServiceAccounts(e.ns).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{}); err != nil {
		e.t.Fatal(err)
	}
	subject := []rbacv1.Subject{{Kind: "ServiceAccount", Name: name, Namespace: e.ns}}
	if _, err := e.kube.RbacV1().RoleBindings(e.ns).Create(ctx, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: name},
		RoleRef: rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: role}, Subjects: subject}, metav1.CreateOptions{}); err != nil {
		e.t.Fatal(err)
	}
	crb := fmt.Sprintf("%s-%s", e.ns, name)
	if _, err := e.kube.RbacV1().ClusterRoleBindings().Create(ctx, &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: crb},
		RoleRef: rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "bluegreen-cluster-identity"}, Subjects: subject}, metav1.CreateOptions{}); err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() {
		_ = e.kube.RbacV1().ClusterRoleBindings().Delete(context.Background(), crb, metav1.DeleteOptions{})
	})
	m := e.machine(name)
	m.kubeconfig = filepath.Join(m.home, "kubeconfig")
	writeTokenKubeconfig(e.t, m.kubeconfig, map[string]*testbed.Cluster{name: cluster}, map[string]string{name: token(e.t, cluster, e.ns, name)}, e.ns)
	return m
}

// token is a token of ServiceAccount ns/name of c.
func token(t *testing.T, c *testbed.Cluster, ns, name string) string {
	t.Helper()
	tok, err := c.Client.CoreV1().ServiceAccounts(ns).CreateToken(context.Background(), name, &authv1.TokenRequest{}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return tok.Status.Token
}

// writeTokenKubeconfig writes a kubeconfig with one context per entry of
// clusters (the first in name order is current), each authenticating with
// the token of the same name.
func writeTokenKubeconfig(t *testing.T, path string, clusters map[string]*testbed.Cluster, tokens map[string]string, ns string) {
	t.Helper()
	cfg := clientcmdapi.NewConfig()
	for name, c := range clusters {
		cfg.Clusters[name] = &clientcmdapi.Cluster{Server: c.Config.Host, CertificateAuthorityData: c.Config.CAData, CertificateAuthority: c.Config.CAFile}
		cfg.AuthInfos[name] = &clientcmdapi.AuthInfo{Token: tokens[name]}
		cfg.Contexts[name] = &clientcmdapi.Context{Cluster: name, AuthInfo: name, Namespace: ns}
		if cfg.CurrentContext == "" || name < cfg.CurrentContext {
			cfg.CurrentContext = name
		}
	}
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		t.Fatal(err)
	}
}

// Every verb of the service scope works as a ServiceAccount bound to
// nothing but the shipped roles.
func TestEveryVerbUnderTheShippedRole(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.applyShippedRBAC()
	ci := e.serviceAccount("releaser", "bluegreen-service")
	e.givenBlueGreenApp("shop", v1, 2)
	if err := servicebed.InstallPlain(context.Background(), e.kube, e.ns, "web", v1, 2); err != nil {
		t.Fatal(err)
	}
	e.waitReady("web", 2)

	ci.must("init", "web")
	ci.must("deploy", "shop", "--image", v2, "--pause")
	ci.must("status", "shop")
	ci.must("promote", "shop")
	ci.must("rollback", "shop")
	ci.must("deploy", "shop", "--image", v3, "--pause")
	ci.must("resume", "shop")
	ci.must("abort", "shop")
	ci.must("unlock", "shop")
	ci.must("deploy", "shop", "--image", v3, "--yes", "--run-history", "1")
	if runs, err := e.runs().List(context.Background(), journal.Filter{App: "shop"}); err != nil || len(runs) != 1 || runs[0].State != journal.Succeeded {
		t.Fatalf("--run-history 1 should leave the newest finished run alone: %v, %d runs", err, len(runs))
	}
	ci.must("rollback", "shop", "--force")
	if s := e.state("shop"); s.ActiveSelects != "blue" {
		t.Fatalf("after the releaser's verbs: %+v", s)
	}
	if s := e.state("web"); s.ActiveSelects != "blue" {
		t.Fatalf("init as the releaser: %+v", s)
	}
}

// A permission missing from a narrower role fails with a message naming
// the verb and the resource.
func TestAMissingPermissionIsNamed(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.applyShippedRBAC()
	ctx := context.Background()
	full, err := e.kube.RbacV1().ClusterRoles().Get(ctx, "bluegreen-service", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	narrow := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: e.ns + "-no-service-patch"}}
	for _, r := range full.Rules {
		if len(r.Resources) == 1 && r.Resources[0] == "services" {
			r.Verbs = []string{"get", "list", "watch"}
		}
		narrow.Rules = append(narrow.Rules, r)
	}
	if _, err := e.kube.RbacV1().ClusterRoles().Create(ctx, narrow, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = e.kube.RbacV1().ClusterRoles().Delete(context.Background(), narrow.Name, metav1.DeleteOptions{})
	})
	m := e.serviceAccount("narrow", narrow.Name)
	e.givenBlueGreenApp("shop", v1, 2)

	r := m.cli("deploy", "shop", "--image", v2, "--yes")

	if r.code == 0 || !strings.Contains(r.stderr, `cannot patch resource "services"`) {
		t.Fatalf("want a failure naming the patch of services, got %s", r)
	}
	if s := e.state("shop"); s.ActiveSelects != "blue" {
		t.Fatalf("production moved without the permission: %+v", s)
	}
}
