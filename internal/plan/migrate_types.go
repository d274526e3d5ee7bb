package plan

import (
	"encoding/json"
	"fmt"

	"github.com/bluegreen/bluegreen/internal/check"
	"github.com/bluegreen/bluegreen/internal/traffic"
)

// MigrationAPIVersion and MigrationKind identify a migration spec file.
const (
	MigrationAPIVersion = "bluegreen.dev/v1alpha1"
	MigrationKind       = "Migration"
)

// Migration is a cluster-scope blue-green: move the selected workloads
// from Source (cluster A, blue) to Target (cluster B, green), hand the
// StatefulSets' EBS volumes over, and walk weighted DNS from A to B.
type Migration struct {
	APIVersion   string           `json:"apiVersion"`
	Kind         string           `json:"kind"`
	Name         string           `json:"name"`
	Region       string           `json:"region,omitempty"`
	Source       ClusterRef       `json:"source"`
	Target       ClusterRef       `json:"target"`
	Workloads    Workloads        `json:"workloads,omitempty"`
	StatefulSets []StatefulSetRef `json:"statefulSets,omitempty"`
	DNS          DNS              `json:"dns"`
	// Steps is the weight schedule: green's percent after each shift.
	Steps []int `json:"steps,omitempty"`
	// Pause is how long to wait after each shift before running the
	// checks. Unset, it is the longest TTL of dns.records (an alias record
	// counts as 60 s), so that resolvers have picked up the new weights
	// before the checks judge them; 0 judges them at once.
	Pause *Duration `json:"pause,omitempty"`
	// ApproveEachStep stops the run before every shift after the first
	// until someone runs `bluegreen migrate promote`.
	ApproveEachStep bool         `json:"approveEachStep,omitempty"`
	Checks          []check.Spec `json:"checks,omitempty"`
	// AllowUngated lets a migration shift with no gate at all: no checks
	// and no target.loadBalancers whose target health is checked.
	AllowUngated bool    `json:"allowUngated,omitempty"`
	Handoff      Handoff `json:"handoff,omitempty"`
	// Manifests are files to be applied to B, scanned for removed APIs.
	Manifests []string `json:"manifests,omitempty"`
}

// ClusterRef names one of the two clusters.
type ClusterRef struct {
	// Context is the kubeconfig context of the cluster.
	Context string `json:"context"`
	// Kubeconfig, when set, is the kubeconfig file for this cluster.
	Kubeconfig string `json:"kubeconfig,omitempty"`
	// EKSCluster is the EKS cluster name (for preflight).
	EKSCluster string `json:"eksCluster,omitempty"`
	// Region overrides the migration's region for this cluster.
	Region string `json:"region,omitempty"`
	// Version is the cluster's Kubernetes version for the removed-API scan
	// (default: EKS DescribeCluster, then the API server's version).
	Version string `json:"version,omitempty"`
	// LoadBalancers are the names of the cluster's load balancers whose
	// subnets must reach its nodes (preflight; default: the cluster's subnets).
	LoadBalancers []string `json:"loadBalancers,omitempty"`
}

// Workloads selects the stateless objects copied to B as a warm standby.
type Workloads struct {
	Namespaces []string `json:"namespaces,omitempty"`
	Kinds      []string `json:"kinds,omitempty"`
	Selector   string   `json:"selector,omitempty"`
}

// StatefulSetRef is one StatefulSet whose volumes move from A to B.
type StatefulSetRef struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	// StorageClass in B for the static PVs (default: the one used in A).
	StorageClass string `json:"storageClass,omitempty"`
	// CNAME is the internal record repointed from A to B right after this
	// StatefulSet's hand-off.
	CNAME *CNAME `json:"cname,omitempty"`
}

// CNAME is an internal record with one value per cluster.
type CNAME struct {
	ZoneID string `json:"zoneID"`
	Name   string `json:"name"`
	TTL    int64  `json:"ttl,omitempty"`
	Blue   string `json:"blue"`
	Green  string `json:"green"`
}

// DNS is how production traffic reaches the clusters: the "dns" section,
// which the router it names parses (see traffic.Records).
type DNS struct {
	// Router names the traffic router; empty means the default one.
	Router string
	// Section is the whole section as written, "router" included.
	Section json.RawMessage
}

// UnmarshalJSON keeps the section for its router to parse.
func (d *DNS) UnmarshalJSON(b []byte) error {
	var head struct {
		Router string `json:"router"`
	}
	if err := json.Unmarshal(b, &head); err != nil {
		return fmt.Errorf("dns: %w", err)
	}
	d.Router, d.Section = head.Router, append(json.RawMessage(nil), b...)
	return nil
}

// MarshalJSON writes the section back as it was read.
func (d DNS) MarshalJSON() ([]byte, error) {
	if len(d.Section) == 0 {
		return json.Marshal(map[string]string{"router": d.Router})
	}
	return d.Section, nil
}

// NewDNS builds a "dns" section from a router's section type.
func NewDNS(router string, section any) (DNS, error) {
	b, err := json.Marshal(section)
	if err != nil {
		return DNS{}, fmt.Errorf("encode dns section: %w", err)
	}
	return DNS{Router: router, Section: b}, nil
}

// Targets parses the section with its router: one target per record.
func (d DNS) Targets() ([]traffic.Target, error) {
	section := d.Section
	if len(section) == 0 {
		section = []byte("{}")
	}
	return traffic.Records(d.Router, section)
}

// Handoff tunes the stateful hand-off.
type Handoff struct {
	// Snapshot each volume before the hand-off (default true).
	Snapshot *bool `json:"snapshot,omitempty"`
	// Parallelism is how many StatefulSets hand off at once (default 4).
	Parallelism int `json:"parallelism,omitempty"`
	// DetachTimeout bounds the wait for EC2 to report a volume available.
	DetachTimeout Duration `json:"detachTimeout,omitempty"`
	// ForceDetach force-detaches a volume still attached at the timeout.
	ForceDetach bool `json:"forceDetach,omitempty"`
	// TagForCSI tags volumes ebs.csi.aws.com/cluster=true for B's driver.
	TagForCSI *bool `json:"tagForCSI,omitempty"`
	// ReadyTimeout bounds waits for pods (gone in A, Ready in B).
	ReadyTimeout Duration `json:"readyTimeout,omitempty"`
	// SnapshotTimeout bounds the wait for the snapshots to complete
	// (default 6h: the first snapshot of a large volume takes hours).
	SnapshotTimeout Duration `json:"snapshotTimeout,omitempty"`
}

// MigrationObserved is what the two clusters hold, read before planning.
type MigrationObserved struct {
	StatefulSets []StatefulSetObserved
	// TargetZones are the zones of B's nodes.
	TargetZones []string
	// Standby lists the objects the warm standby would copy ("kind ns/name").
	Standby []string
	// Split is the current weight split per record name.
	Split map[string]map[string]int
}

// StatefulSetObserved is one StatefulSet in A with its claims.
type StatefulSetObserved struct {
	Namespace, Name string
	Replicas        int32
	ExistsInTarget  bool
	Claims          []ClaimObserved
}

// ClaimObserved is a PVC of a StatefulSet and the PV and volume behind it.
type ClaimObserved struct {
	PVC, PV, VolumeID, Zone     string
	StorageClass, Capacity      string
	FSType, Driver              string
	AccessModes                 []string
	ReclaimPolicy, VolumeHandle string
}

// Params of the cluster-scope steps.
type (
	// StandbyParams selects what to copy to B.
	StandbyParams struct {
		Workloads Workloads `json:"workloads"`
		Timeout   Duration  `json:"timeout,omitempty"`
	}
	// HandoffParams name one StatefulSet and its claims.
	HandoffParams struct {
		Namespace    string          `json:"namespace"`
		Name         string          `json:"name"`
		Replicas     int32           `json:"replicas"`
		Claims       []ClaimObserved `json:"claims"`
		StorageClass string          `json:"storageClass,omitempty"`
		Timeout      Duration        `json:"timeout"`
		ForceDetach  bool            `json:"forceDetach,omitempty"`
	}
	// CNAMEParams repoint an internal record.
	CNAMEParams struct {
		CNAME CNAME `json:"cname"`
	}
	// ApproveShiftParams name the shift an approval gate holds back.
	ApproveShiftParams struct {
		Green int `json:"green"`
	}
	// ShiftParams move the weights of every record to Split (green percent).
	ShiftParams struct {
		Green    int      `json:"green"`
		Previous int      `json:"previous"`
		Pause    Duration `json:"pause"`
	}
)

// Step kinds of the cluster scope.
const (
	KindStandby         = "standby-copy"
	KindStandbyReady    = "standby-ready"
	KindRetain          = "handoff-retain"
	KindSnapshot        = "handoff-snapshot"
	KindScaleSource     = "handoff-scale-source"
	KindWaitDetached    = "handoff-wait-detached"
	KindTagVolumes      = "handoff-tag"
	KindReleaseClaims   = "handoff-release-claims"
	KindStaticPV        = "handoff-static-pv"
	KindApplyTarget     = "handoff-apply-target"
	KindVerifyAttached  = "handoff-verify-attached"
	KindRepointCNAME    = "cname"
	KindShift           = "dns-shift"
	KindApproveShift    = "approve-shift"
	KindVerifyChecklist = "verify-checklist"
)
