package apiscan

import (
	"fmt"
	"slices"
)

// Removal is one group/version/kind that a Kubernetes release stopped
// serving.
type Removal struct {
	// APIVersion is the removed group/version, e.g. "extensions/v1beta1".
	APIVersion string `json:"apiVersion"`
	// Kind is the object kind served at APIVersion until RemovedIn.
	Kind string `json:"kind"`
	// RemovedIn is the first release that no longer serves APIVersion for
	// Kind, e.g. "1.16".
	RemovedIn string `json:"removedIn"`
	// Replacement is the group/version to migrate to, empty when the kind
	// has no successor at all (PodSecurityPolicy).
	Replacement string `json:"replacement,omitempty"`
	// ReplacementSince is the first release serving Replacement.
	ReplacementSince string `json:"replacementSince,omitempty"`
	// Note says what is not a drop-in change when moving to Replacement
	// (renamed fields, changed defaults), or what to do instead; empty when
	// only apiVersion has to change.
	Note string `json:"note,omitempty"`
}

// Notes shared by several rows. They summarise the migration guide's
// "notable changes"; the guide has the full lists.
const (
	noteAppsSelector  = "spec.selector is required and immutable in apps/v1; use the existing template labels as the selector"
	noteDeployment    = noteAppsSelector + "; spec.rollbackTo is removed; defaults change: progressDeadlineSeconds 600, revisionHistoryLimit 10, maxSurge/maxUnavailable 25%"
	noteDaemonSet     = noteAppsSelector + "; spec.templateGeneration is removed; spec.updateStrategy.type defaults to RollingUpdate (extensions/v1beta1 defaulted to OnDelete)"
	noteStatefulSet   = noteAppsSelector + "; spec.updateStrategy.type defaults to RollingUpdate (apps/v1beta1 defaulted to OnDelete)"
	noteIngress       = "not a drop-in: spec.backend becomes spec.defaultBackend; backend serviceName/servicePort become service.name and service.port.number or service.port.name; every path needs pathType (ImplementationSpecific matches v1beta1)"
	noteWebhook       = "defaults change in v1: failurePolicy Fail, matchPolicy Equivalent, timeoutSeconds 10; sideEffects (None or NoneOnDryRun) and admissionReviewVersions are required; webhook names must be unique"
	noteCRD           = "not a drop-in: spec.scope is required; spec.version, spec.validation, spec.subresources and spec.additionalPrinterColumns move under spec.versions[*]; every version needs a structural openAPIV3Schema; spec.preserveUnknownFields: true is disallowed (use x-kubernetes-preserve-unknown-fields); conversion.webhookClientConfig moves to conversion.webhook.clientConfig"
	noteAccessReview  = "spec.group is renamed to spec.groups"
	noteCSR           = "spec.signerName and spec.usages are required (kubernetes.io/legacy-unknown cannot be requested); status conditions may not repeat a type and need a status; status.certificate must be PEM CERTIFICATE blocks"
	noteHPA           = "targetAverageUtilization becomes target.averageUtilization with target.type: Utilization"
	notePDB           = "an empty spec.selector ({}) selects every pod in the namespace in policy/v1 (it selected none in policy/v1beta1); an unset selector selects none in both"
	noteEndpointSlice = "per-endpoint topology becomes nodeName and zone; topology is replaced by the read-only deprecatedTopology"
	noteEvent         = "not a drop-in: type is Normal or Warning; involvedObject becomes regarding; action, reason, reportingController and reportingInstance are required; firstTimestamp, lastTimestamp, count and source become eventTime, series and reporting* fields"
	notePSP           = "removed with no replacement API: migrate to Pod Security Admission (pod-security.kubernetes.io namespace labels) or a third-party admission webhook"
	notePSP116        = "policy/v1beta1 PodSecurityPolicy is itself removed in 1.25 with no replacement: plan for Pod Security Admission"
	noteFlowOlder     = "flowcontrol v1 is served from 1.29; a 1.26-1.28 target needs v1beta3 instead (itself removed in 1.32)"
	noteFlowRename    = "PriorityLevelConfiguration spec.limited.assuredConcurrencyShares is renamed nominalConcurrencyShares; in v1 an explicit 0 is no longer defaulted to 30"
	noteFlowV1beta3   = "PriorityLevelConfiguration spec.limited.nominalConcurrencyShares defaults to 30 only when unset; an explicit 0 stays 0"
)

// removals is the removal table, newest release first, one row per
// group/version/kind. Source: the Kubernetes "Deprecated API Migration
// Guide", https://kubernetes.io/docs/reference/using-api/deprecation-guide/
// ("Removed APIs by release"), which lists removals in v1.16, v1.22, v1.25,
// v1.26, v1.27, v1.29 and v1.32 and none in v1.33 or v1.34. When the guide
// gains a release, add its rows here; TestRemovalsTable checks the shape of
// every row.
//
// Where the guide names an interim replacement that was itself removed
// later (flowcontrol v1beta2/v1beta3), the row names the version a
// migration should land on today and the note says what older targets need.
var removals = []Removal{
	// v1.32
	{"flowcontrol.apiserver.k8s.io/v1beta3", "FlowSchema", "1.32", "flowcontrol.apiserver.k8s.io/v1", "1.29", ""},
	{"flowcontrol.apiserver.k8s.io/v1beta3", "PriorityLevelConfiguration", "1.32", "flowcontrol.apiserver.k8s.io/v1", "1.29", noteFlowV1beta3},

	// v1.29
	{"flowcontrol.apiserver.k8s.io/v1beta2", "FlowSchema", "1.29", "flowcontrol.apiserver.k8s.io/v1", "1.29", ""},
	{"flowcontrol.apiserver.k8s.io/v1beta2", "PriorityLevelConfiguration", "1.29", "flowcontrol.apiserver.k8s.io/v1", "1.29", noteFlowRename},

	// v1.27
	{"storage.k8s.io/v1beta1", "CSIStorageCapacity", "1.27", "storage.k8s.io/v1", "1.24", ""},

	// v1.26
	{"flowcontrol.apiserver.k8s.io/v1beta1", "FlowSchema", "1.26", "flowcontrol.apiserver.k8s.io/v1", "1.29", noteFlowOlder},
	{"flowcontrol.apiserver.k8s.io/v1beta1", "PriorityLevelConfiguration", "1.26", "flowcontrol.apiserver.k8s.io/v1", "1.29", noteFlowOlder + "; " + noteFlowRename},
	{"autoscaling/v2beta2", "HorizontalPodAutoscaler", "1.26", "autoscaling/v2", "1.23", noteHPA},

	// v1.25
	{"batch/v1beta1", "CronJob", "1.25", "batch/v1", "1.21", ""},
	{"discovery.k8s.io/v1beta1", "EndpointSlice", "1.25", "discovery.k8s.io/v1", "1.21", noteEndpointSlice},
	{"events.k8s.io/v1beta1", "Event", "1.25", "events.k8s.io/v1", "1.19", noteEvent},
	{"autoscaling/v2beta1", "HorizontalPodAutoscaler", "1.25", "autoscaling/v2", "1.23", noteHPA},
	{"policy/v1beta1", "PodDisruptionBudget", "1.25", "policy/v1", "1.21", notePDB},
	{"policy/v1beta1", "PodSecurityPolicy", "1.25", "", "", notePSP},
	{"node.k8s.io/v1beta1", "RuntimeClass", "1.25", "node.k8s.io/v1", "1.20", ""},

	// v1.22
	{"admissionregistration.k8s.io/v1beta1", "MutatingWebhookConfiguration", "1.22", "admissionregistration.k8s.io/v1", "1.16", noteWebhook},
	{"admissionregistration.k8s.io/v1beta1", "ValidatingWebhookConfiguration", "1.22", "admissionregistration.k8s.io/v1", "1.16", noteWebhook},
	{"apiextensions.k8s.io/v1beta1", "CustomResourceDefinition", "1.22", "apiextensions.k8s.io/v1", "1.16", noteCRD},
	{"apiregistration.k8s.io/v1beta1", "APIService", "1.22", "apiregistration.k8s.io/v1", "1.10", ""},
	{"authentication.k8s.io/v1beta1", "TokenReview", "1.22", "authentication.k8s.io/v1", "1.6", ""},
	{"authorization.k8s.io/v1beta1", "LocalSubjectAccessReview", "1.22", "authorization.k8s.io/v1", "1.6", noteAccessReview},
	{"authorization.k8s.io/v1beta1", "SelfSubjectAccessReview", "1.22", "authorization.k8s.io/v1", "1.6", noteAccessReview},
	{"authorization.k8s.io/v1beta1", "SubjectAccessReview", "1.22", "authorization.k8s.io/v1", "1.6", noteAccessReview},
	{"authorization.k8s.io/v1beta1", "SelfSubjectRulesReview", "1.22", "authorization.k8s.io/v1", "1.6", ""},
	{"certificates.k8s.io/v1beta1", "CertificateSigningRequest", "1.22", "certificates.k8s.io/v1", "1.19", noteCSR},
	{"coordination.k8s.io/v1beta1", "Lease", "1.22", "coordination.k8s.io/v1", "1.14", ""},
	{"extensions/v1beta1", "Ingress", "1.22", "networking.k8s.io/v1", "1.19", noteIngress},
	{"networking.k8s.io/v1beta1", "Ingress", "1.22", "networking.k8s.io/v1", "1.19", noteIngress},
	{"networking.k8s.io/v1beta1", "IngressClass", "1.22", "networking.k8s.io/v1", "1.19", ""},
	{"rbac.authorization.k8s.io/v1beta1", "ClusterRole", "1.22", "rbac.authorization.k8s.io/v1", "1.8", ""},
	{"rbac.authorization.k8s.io/v1beta1", "ClusterRoleBinding", "1.22", "rbac.authorization.k8s.io/v1", "1.8", ""},
	{"rbac.authorization.k8s.io/v1beta1", "Role", "1.22", "rbac.authorization.k8s.io/v1", "1.8", ""},
	{"rbac.authorization.k8s.io/v1beta1", "RoleBinding", "1.22", "rbac.authorization.k8s.io/v1", "1.8", ""},
	{"scheduling.k8s.io/v1beta1", "PriorityClass", "1.22", "scheduling.k8s.io/v1", "1.14", ""},
	{"storage.k8s.io/v1beta1", "CSIDriver", "1.22", "storage.k8s.io/v1", "1.19", ""},
	{"storage.k8s.io/v1beta1", "CSINode", "1.22", "storage.k8s.io/v1", "1.17", ""},
	{"storage.k8s.io/v1beta1", "StorageClass", "1.22", "storage.k8s.io/v1", "1.6", ""},
	{"storage.k8s.io/v1beta1", "VolumeAttachment", "1.22", "storage.k8s.io/v1", "1.13", ""},

	// v1.16
	{"extensions/v1beta1", "NetworkPolicy", "1.16", "networking.k8s.io/v1", "1.8", ""},
	{"extensions/v1beta1", "DaemonSet", "1.16", "apps/v1", "1.9", noteDaemonSet},
	{"apps/v1beta2", "DaemonSet", "1.16", "apps/v1", "1.9", noteDaemonSet},
	{"extensions/v1beta1", "Deployment", "1.16", "apps/v1", "1.9", noteDeployment},
	{"apps/v1beta1", "Deployment", "1.16", "apps/v1", "1.9", noteDeployment},
	{"apps/v1beta2", "Deployment", "1.16", "apps/v1", "1.9", noteDeployment},
	{"apps/v1beta1", "StatefulSet", "1.16", "apps/v1", "1.9", noteStatefulSet},
	{"apps/v1beta2", "StatefulSet", "1.16", "apps/v1", "1.9", noteStatefulSet},
	{"extensions/v1beta1", "ReplicaSet", "1.16", "apps/v1", "1.9", noteAppsSelector},
	{"apps/v1beta1", "ReplicaSet", "1.16", "apps/v1", "1.9", noteAppsSelector},
	{"apps/v1beta2", "ReplicaSet", "1.16", "apps/v1", "1.9", noteAppsSelector},
	{"extensions/v1beta1", "PodSecurityPolicy", "1.16", "policy/v1beta1", "1.10", notePSP116},
}

// tableKey identifies a row of the removal table.
type tableKey struct{ apiVersion, kind string }

// indexed is a removal with its release parsed once.
type indexed struct {
	Removal
	removedIn Version
}

// index looks rows up by group/version/kind. It is built once from the
// table and never changed.
var index = buildIndex(removals)

func buildIndex(rows []Removal) map[tableKey]indexed {
	m := make(map[tableKey]indexed, len(rows))
	for _, r := range rows {
		k := tableKey{r.APIVersion, r.Kind}
		if _, dup := m[k]; dup {
			panic(fmt.Sprintf("apiscan: duplicate removal row %s %s", r.APIVersion, r.Kind))
		}
		m[k] = indexed{Removal: r, removedIn: MustParseVersion(r.RemovedIn)}
	}
	return m
}

// Removals returns a copy of the removal table, newest release first.
func Removals() []Removal {
	return slices.Clone(removals)
}

// Lookup returns the removal row for apiVersion and kind, whatever the
// target release.
func Lookup(apiVersion, kind string) (Removal, bool) {
	r, ok := index[tableKey{apiVersion, kind}]
	return r.Removal, ok
}

// Removed returns the removal row for apiVersion and kind if the release
// target (see ParseVersion) no longer serves them, that is if they were
// removed in target or earlier. An invalid target matches nothing; callers
// validate it with ParseVersion first.
func Removed(apiVersion, kind, target string) (Removal, bool) {
	v, err := ParseVersion(target)
	if err != nil {
		return Removal{}, false
	}
	return removedBy(apiVersion, kind, v)
}

// removedBy is Removed for a parsed target.
func removedBy(apiVersion, kind string, target Version) (Removal, bool) {
	r, ok := index[tableKey{apiVersion, kind}]
	if !ok || !target.AtLeast(r.removedIn) {
		return Removal{}, false
	}
	return r.Removal, true
}
