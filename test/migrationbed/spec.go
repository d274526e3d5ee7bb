package migrationbed

import (
	"fmt"
	"os"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/bluegreen/bluegreen/internal/check"
	"github.com/bluegreen/bluegreen/internal/plan"
)

// SpecOptions shape the migration spec written for a shop.
type SpecOptions struct {
	Name  string
	Steps []int
	Pause time.Duration
	// ApproveEachStep stops before every shift after the first.
	ApproveEachStep bool
	Checks          []check.Spec
	Parallelism     int
	// Timeouts of the hand-off waits (default 2m each).
	DetachTimeout, ReadyTimeout time.Duration
	// NoStandby leaves the stateless workloads out.
	NoStandby bool
	Manifests []string
	// ExternalDNS moves the weights through external-dns annotations on the
	// web Service in each cluster instead of the Route 53 API.
	ExternalDNS bool
}

// Spec returns the migration of shop from A to B.
func (w *World) Spec(shop Shop, o SpecOptions) plan.Migration {
	if o.Name == "" {
		o.Name = "shop"
	}
	if o.DetachTimeout == 0 {
		o.DetachTimeout = 2 * time.Minute
	}
	if o.ReadyTimeout == 0 {
		o.ReadyTimeout = 2 * time.Minute
	}
	pause := plan.Duration(o.Pause) // 0 unless asked: the fake's records change at once
	m := plan.Migration{
		APIVersion: plan.MigrationAPIVersion, Kind: plan.MigrationKind, Name: o.Name, Region: Region,
		Source: plan.ClusterRef{Context: w.ContextA, Kubeconfig: w.A.Kubeconfig, EKSCluster: BlueEKS},
		Target: plan.ClusterRef{Context: w.ContextB, Kubeconfig: w.B.Kubeconfig, EKSCluster: GreenEKS, LoadBalancers: []string{GreenLBName}},
		DNS: plan.DNS{Router: "route53", ZoneID: w.ZoneID, Records: []plan.Record{{
			Name: Record, Type: "CNAME", TTL: 60,
			Blue:  plan.RecordTarget{SetIdentifier: "blue", Value: BlueLB},
			Green: plan.RecordTarget{SetIdentifier: "green", Value: GreenLB},
		}}},
		Steps: o.Steps, Pause: &pause, ApproveEachStep: o.ApproveEachStep, Checks: o.Checks, Manifests: o.Manifests,
		Handoff: plan.Handoff{Parallelism: o.Parallelism, DetachTimeout: plan.Duration(o.DetachTimeout), ReadyTimeout: plan.Duration(o.ReadyTimeout)},
	}
	if o.ExternalDNS {
		m.DNS = plan.DNS{Router: "external-dns", Records: []plan.Record{{Name: Record, Type: "CNAME", TTL: 60,
			Blue:  plan.RecordTarget{SetIdentifier: "blue", Object: "service/" + shop.Namespace + "/web"},
			Green: plan.RecordTarget{SetIdentifier: "green", Object: "service/" + shop.Namespace + "/web"},
		}}}
	}
	if !o.NoStandby {
		m.Workloads = plan.Workloads{Namespaces: []string{shop.Namespace}, Kinds: []string{"ConfigMap", "Service", "Deployment"}, Selector: "app=web"}
	}
	for _, db := range shop.StatefulSets {
		m.StatefulSets = append(m.StatefulSets, plan.StatefulSetRef{Namespace: shop.Namespace, Name: db.Name,
			CNAME: &plan.CNAME{ZoneID: w.InternalID, Name: db.CNAME, TTL: 30, Blue: BlueValue(db), Green: GreenValue(db)}})
	}
	return m
}

// WriteSpec writes m as YAML to path.
func WriteSpec(path string, m plan.Migration) error {
	data, err := yaml.Marshal(m)
	if err != nil {
		return fmt.Errorf("encode migration spec: %w", err)
	}
	return os.WriteFile(path, data, 0o600)
}
