package apiscan

import (
	"strings"
	"testing"
)

// TestRemovalsTable checks the shape of every row, so that an edit to the
// table cannot slip in a typo.
func TestRemovalsTable(t *testing.T) {
	first, last := MustParseVersion("1.16"), MustParseVersion("1.34")
	seen := map[tableKey]bool{}
	for _, r := range Removals() {
		name := r.APIVersion + " " + r.Kind
		if seen[tableKey{r.APIVersion, r.Kind}] {
			t.Errorf("%s: duplicate row", name)
		}
		seen[tableKey{r.APIVersion, r.Kind}] = true
		if !strings.Contains(r.APIVersion, "/") || r.Kind == "" || strings.ToUpper(r.Kind[:1]) != r.Kind[:1] {
			t.Errorf("%s: want group/version and a capitalised kind", name)
		}
		removed, err := ParseVersion(r.RemovedIn)
		if err != nil || removed.Compare(first) < 0 || removed.Compare(last) > 0 {
			t.Errorf("%s: removedIn %q outside 1.16..1.34 (%v)", name, r.RemovedIn, err)
		}
		switch r.Replacement {
		case "":
			if r.Note == "" || r.ReplacementSince != "" {
				t.Errorf("%s: a removal without replacement needs a note saying what to do instead", name)
			}
		case r.APIVersion:
			t.Errorf("%s: replaced by itself", name)
		default:
			if _, err := ParseVersion(r.ReplacementSince); err != nil {
				t.Errorf("%s: replacementSince: %v", name, err)
			}
		}
	}
}

// TestRemovalsCoverGuide pins every removal the Deprecated API Migration
// Guide lists for 1.16 through 1.34, release by release.
func TestRemovalsCoverGuide(t *testing.T) {
	guide := map[string][]string{
		"1.16": {
			"extensions/v1beta1 NetworkPolicy", "extensions/v1beta1 DaemonSet", "apps/v1beta2 DaemonSet",
			"extensions/v1beta1 Deployment", "apps/v1beta1 Deployment", "apps/v1beta2 Deployment",
			"apps/v1beta1 StatefulSet", "apps/v1beta2 StatefulSet", "extensions/v1beta1 ReplicaSet",
			"apps/v1beta1 ReplicaSet", "apps/v1beta2 ReplicaSet", "extensions/v1beta1 PodSecurityPolicy",
		},
		"1.22": {
			"admissionregistration.k8s.io/v1beta1 MutatingWebhookConfiguration",
			"admissionregistration.k8s.io/v1beta1 ValidatingWebhookConfiguration",
			"apiextensions.k8s.io/v1beta1 CustomResourceDefinition", "apiregistration.k8s.io/v1beta1 APIService",
			"authentication.k8s.io/v1beta1 TokenReview", "authorization.k8s.io/v1beta1 LocalSubjectAccessReview",
			"authorization.k8s.io/v1beta1 SelfSubjectAccessReview", "authorization.k8s.io/v1beta1 SubjectAccessReview",
			"authorization.k8s.io/v1beta1 SelfSubjectRulesReview", "certificates.k8s.io/v1beta1 CertificateSigningRequest",
			"coordination.k8s.io/v1beta1 Lease", "extensions/v1beta1 Ingress", "networking.k8s.io/v1beta1 Ingress",
			"networking.k8s.io/v1beta1 IngressClass", "rbac.authorization.k8s.io/v1beta1 ClusterRole",
			"rbac.authorization.k8s.io/v1beta1 ClusterRoleBinding", "rbac.authorization.k8s.io/v1beta1 Role",
			"rbac.authorization.k8s.io/v1beta1 RoleBinding", "scheduling.k8s.io/v1beta1 PriorityClass",
			"storage.k8s.io/v1beta1 CSIDriver", "storage.k8s.io/v1beta1 CSINode",
			"storage.k8s.io/v1beta1 StorageClass", "storage.k8s.io/v1beta1 VolumeAttachment",
		},
		"1.25": {
			"batch/v1beta1 CronJob", "discovery.k8s.io/v1beta1 EndpointSlice", "events.k8s.io/v1beta1 Event",
			"autoscaling/v2beta1 HorizontalPodAutoscaler", "policy/v1beta1 PodDisruptionBudget",
			"policy/v1beta1 PodSecurityPolicy", "node.k8s.io/v1beta1 RuntimeClass",
		},
		"1.26": {
			"flowcontrol.apiserver.k8s.io/v1beta1 FlowSchema", "flowcontrol.apiserver.k8s.io/v1beta1 PriorityLevelConfiguration",
			"autoscaling/v2beta2 HorizontalPodAutoscaler",
		},
		"1.27": {"storage.k8s.io/v1beta1 CSIStorageCapacity"},
		"1.29": {"flowcontrol.apiserver.k8s.io/v1beta2 FlowSchema", "flowcontrol.apiserver.k8s.io/v1beta2 PriorityLevelConfiguration"},
		"1.32": {"flowcontrol.apiserver.k8s.io/v1beta3 FlowSchema", "flowcontrol.apiserver.k8s.io/v1beta3 PriorityLevelConfiguration"},
	}
	n := 0
	for release, rows := range guide {
		for _, row := range rows {
			n++
			av, kind, _ := strings.Cut(row, " ")
			r, ok := Lookup(av, kind)
			if !ok || r.RemovedIn != release {
				t.Errorf("%s: want a row removed in %s, got %+v (found %v)", row, release, r, ok)
			}
		}
	}
	if got := len(Removals()); got != n {
		t.Errorf("table has %d rows, the guide lists %d: add the new rows to this test too", got, n)
	}
}

func TestRemoved(t *testing.T) {
	tests := []struct {
		name, apiVersion, kind, target string
		wantOK                         bool
		wantIn, wantReplacement        string
		wantNote                       string
	}{
		{"before removal", "extensions/v1beta1", "Deployment", "1.15", false, "", "", ""},
		{"at removal", "extensions/v1beta1", "Deployment", "1.16", true, "1.16", "apps/v1", "rollbackTo"},
		{"after removal, eks spelling", "extensions/v1beta1", "Deployment", "v1.33.0-eks-1234", true, "1.16", "apps/v1", ""},
		{"ingress backend shape", "networking.k8s.io/v1beta1", "Ingress", "1.22", true, "1.22", "networking.k8s.io/v1", "service.port.number"},
		{"ingress not yet", "networking.k8s.io/v1beta1", "Ingress", "1.21", false, "", "", ""},
		{"psp no replacement", "policy/v1beta1", "PodSecurityPolicy", "1.25", true, "1.25", "", "Pod Security Admission"},
		{"cronjob", "batch/v1beta1", "CronJob", "1.25", true, "1.25", "batch/v1", ""},
		{"hpa v2beta1 at 1.25", "autoscaling/v2beta1", "HorizontalPodAutoscaler", "1.25", true, "1.25", "autoscaling/v2", "target.averageUtilization"},
		{"hpa v2beta2 not at 1.25", "autoscaling/v2beta2", "HorizontalPodAutoscaler", "1.25", false, "", "", ""},
		{"hpa v2beta2 at 1.26", "autoscaling/v2beta2", "HorizontalPodAutoscaler", "1.26.1", true, "1.26", "autoscaling/v2", ""},
		{"pdb selector semantics", "policy/v1beta1", "PodDisruptionBudget", "1.25", true, "1.25", "policy/v1", "empty spec.selector"},
		{"csistoragecapacity", "storage.k8s.io/v1beta1", "CSIStorageCapacity", "1.27", true, "1.27", "storage.k8s.io/v1", ""},
		{"flowcontrol v1beta3 not at 1.31", "flowcontrol.apiserver.k8s.io/v1beta3", "FlowSchema", "1.31", false, "", "", ""},
		{"flowcontrol v1beta3 at 1.32", "flowcontrol.apiserver.k8s.io/v1beta3", "FlowSchema", "1.32", true, "1.32", "flowcontrol.apiserver.k8s.io/v1", ""},
		{"current version", "apps/v1", "Deployment", "1.34", false, "", "", ""},
		{"current hpa", "autoscaling/v2", "HorizontalPodAutoscaler", "1.34", false, "", "", ""},
		{"kind is case-sensitive", "extensions/v1beta1", "deployment", "1.34", false, "", "", ""},
		{"unknown group", "example.com/v1beta1", "Widget", "1.34", false, "", "", ""},
		{"invalid target matches nothing", "extensions/v1beta1", "Deployment", "next", false, "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, ok := Removed(tt.apiVersion, tt.kind, tt.target)
			if ok != tt.wantOK || r.RemovedIn != tt.wantIn || r.Replacement != tt.wantReplacement {
				t.Fatalf("Removed(%s, %s, %s) = %+v, %v; want removedIn %q replacement %q, %v",
					tt.apiVersion, tt.kind, tt.target, r, ok, tt.wantIn, tt.wantReplacement, tt.wantOK)
			}
			if !strings.Contains(r.Note, tt.wantNote) {
				t.Errorf("note %q does not mention %q", r.Note, tt.wantNote)
			}
		})
	}
}

func TestRemovalsIsACopy(t *testing.T) {
	rows := Removals()
	rows[0].Kind = "Changed"
	if Removals()[0].Kind == "Changed" {
		t.Fatal("Removals returned the table itself")
	}
}
