package e2e

import (
	"context"
	"encoding/json"
	"maps"
	"regexp"
	"strings"
	"testing"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/bluegreen/bluegreen/internal/journal"
	"github.com/bluegreen/bluegreen/test/servicebed"
)

// --dry-run=server sends every write of a release to the API server with
// dryRun=All: a ValidatingAdmissionPolicy that refuses the new image is
// named in the report and the exit code, a user without write rights is
// refused by RBAC, an admitted release says so; and in every case the
// cluster is as before and no run is recorded.
func TestServerDryRunAsksTheAPIServer(t *testing.T) {
	e := newEnv(t)
	e.applyShippedRBAC()
	e.givenBlueGreenApp("shop", v1, 2)
	const rejected = "registry.example.com/shop:3.0.0-rejected"
	e.givenPolicyRefusingImages("-rejected")
	admin := e.machine("admin")
	before := e.snapshot()

	r := admin.cli("deploy", "shop", "--image", rejected, "--dry-run=server", "--yes")
	if r.code != 1 || !regexp.MustCompile(`(?m)^ *\d+\. set-image\s+REFUSED: .*images tagged -rejected are not for production`).MatchString(r.stdout) ||
		!strings.Contains(r.stderr, "server dry run: 1 of the") || !strings.Contains(r.stderr, "nothing was changed") {
		t.Fatalf("server dry run of an image the policy refuses: want exit 1 naming the policy's message on set-image:\n%s", r)
	}
	if !regexp.MustCompile(`(?m)^ *\d+\. switch\s+admitted$`).MatchString(r.stdout) ||
		!regexp.MustCompile(`(?m)^ *\d+\. wait-rollout\s+not sent: `).MatchString(r.stdout) {
		t.Fatalf("server dry run: every other write is still sent, waits are not:\n%s", r.stdout)
	}

	r = admin.cli("deploy", "shop", "--image", rejected, "--dry-run=server", "--yes", "-o", "json")
	var doc struct {
		Kind    string `json:"kind"`
		Results []struct {
			Step, Result, Message string
		} `json:"results"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil || doc.Kind != "ServerDryRun" {
		t.Fatalf("server dry run -o json: %v\n%s", err, r)
	}
	refusedSteps := []string{}
	for _, x := range doc.Results {
		if x.Result == "refused" {
			refusedSteps = append(refusedSteps, x.Step)
		}
	}
	if r.code != 1 || len(refusedSteps) != 1 || refusedSteps[0] != "set-image" {
		t.Fatalf("server dry run -o json: refused %v, exit %d; want set-image only, exit 1", refusedSteps, r.code)
	}

	viewer := e.serviceAccount("viewer", "view")
	r = viewer.cli("deploy", "shop", "--image", v2, "--dry-run=server", "--yes")
	if r.code != 1 || !regexp.MustCompile(`(?m)^ *\d+\. set-image\s+REFUSED: .*forbidden`).MatchString(r.stdout) {
		t.Fatalf("server dry run as a user who may only read: want RBAC's refusal on set-image:\n%s", r)
	}

	r = admin.must("deploy", "shop", "--image", v2, "--dry-run=server", "--yes")
	if !regexp.MustCompile(`(?m)^ *\d+\. set-image\s+admitted$`).MatchString(r.stdout) || !strings.Contains(r.stdout, "admitted the writes of all") {
		t.Fatalf("server dry run of an admitted release:\n%s", r)
	}

	if after := e.snapshot(); !maps.Equal(before, after) {
		t.Fatalf("a server dry run changed the cluster:\nbefore %v\nafter  %v", before, after)
	}
	if runs, err := e.runs().List(context.Background(), journal.Filter{App: "shop"}); err != nil || len(runs) != 0 {
		t.Fatalf("a server dry run recorded %d runs (%v); want none", len(runs), err)
	}
	if got := e.state("shop"); got.ActiveSelects != "blue" || got.GreenImage == v2 || got.GreenImage == rejected {
		t.Fatalf("after server dry runs: %+v; want blue active, green without the new images", got)
	}
}

// givenPolicyRefusingImages installs a ValidatingAdmissionPolicy, bound
// to the env's namespace, that refuses Deployments with an image ending
// in suffix, and waits until the API server enforces it.
func (e *env) givenPolicyRefusingImages(suffix string) {
	e.t.Helper()
	ctx := context.Background()
	name := e.ns + "-no" + suffix
	pol := &admissionv1.ValidatingAdmissionPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: admissionv1.ValidatingAdmissionPolicySpec{
			FailurePolicy: ptr.To(admissionv1.Fail),
			MatchConstraints: &admissionv1.MatchResources{ResourceRules: []admissionv1.NamedRuleWithOperations{{
				RuleWithOperations: admissionv1.RuleWithOperations{
					Operations: []admissionv1.OperationType{admissionv1.Create, admissionv1.Update},
					Rule:       admissionv1.Rule{APIGroups: []string{"apps"}, APIVersions: []string{"v1"}, Resources: []string{"deployments"}},
				},
			}}},
			Validations: []admissionv1.Validation{{
				Expression: "object.spec.template.spec.containers.all(c, !c.image.endsWith('" + suffix + "'))",
				Message:    "images tagged " + suffix + " are not for production",
			}},
		},
	}
	if _, err := e.kube.AdmissionregistrationV1().ValidatingAdmissionPolicies().Create(ctx, pol, metav1.CreateOptions{}); err != nil {
		e.t.Fatal(err)
	}
	bind := &admissionv1.ValidatingAdmissionPolicyBinding{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: admissionv1.ValidatingAdmissionPolicyBindingSpec{
			PolicyName:        name,
			ValidationActions: []admissionv1.ValidationAction{admissionv1.Deny},
			MatchResources: &admissionv1.MatchResources{NamespaceSelector: &metav1.LabelSelector{
				MatchLabels: map[string]string{"kubernetes.io/metadata.name": e.ns}}},
		},
	}
	if _, err := e.kube.AdmissionregistrationV1().ValidatingAdmissionPolicyBindings().Create(ctx, bind, metav1.CreateOptions{}); err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() {
		_ = e.kube.AdmissionregistrationV1().ValidatingAdmissionPolicyBindings().Delete(context.Background(), name, metav1.DeleteOptions{})
		_ = e.kube.AdmissionregistrationV1().ValidatingAdmissionPolicies().Delete(context.Background(), name, metav1.DeleteOptions{})
	})
	probe := servicebed.Deployment(e.ns, "policy-probe", 0, map[string]string{"app": "policy-probe"}, "registry.example.com/probe:1"+suffix)
	e.eventually("the admission policy refuses "+suffix+" images", func() bool {
		_, err := e.kube.AppsV1().Deployments(e.ns).Create(ctx, probe.DeepCopyObject().(*appsv1.Deployment), metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
		return err != nil && strings.Contains(err.Error(), "not for production")
	})
}
