package migrationbed

import (
	"encoding/json"
	"fmt"
	"os"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/bluegreen/bluegreen/internal/check"
	"github.com/bluegreen/bluegreen/internal/plan"
	"github.com/bluegreen/bluegreen/internal/traffic"
	"github.com/bluegreen/bluegreen/internal/traffic/externaldns"
	"github.com/bluegreen/bluegreen/internal/traffic/route53"
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
		DNS: mustDNS(route53.Name, route53.Section{Router: route53.Name, ZoneID: w.ZoneID, Records: []route53.SpecRecord{{
			WeightedRecord: traffic.WeightedRecord{Name: Record, Type: "CNAME", TTL: 60},
			Blue:           route53.SpecSet{SetIdentifier: "blue", Value: BlueLB},
			Green:          route53.SpecSet{SetIdentifier: "green", Value: GreenLB},
		}}}),
		Steps: o.Steps, Pause: &pause, ApproveEachStep: o.ApproveEachStep, Checks: o.Checks, Manifests: o.Manifests,
		Handoff: plan.Handoff{Parallelism: o.Parallelism, DetachTimeout: plan.Duration(o.DetachTimeout), ReadyTimeout: plan.Duration(o.ReadyTimeout)},
	}
	if o.ExternalDNS {
		m.DNS = mustDNS(externaldns.Name, externaldns.Section{Router: externaldns.Name, Records: []externaldns.SpecRecord{{
			WeightedRecord: traffic.WeightedRecord{Name: Record, Type: "CNAME", TTL: 60},
			Blue:           externaldns.SpecSet{SetIdentifier: "blue", Object: "service/" + shop.Namespace + "/web"},
			Green:          externaldns.SpecSet{SetIdentifier: "green", Object: "service/" + shop.Namespace + "/web"},
		}}})
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

func mustDNS(router string, section any) plan.DNS {
	d, err := plan.NewDNS(router, section)
	if err != nil {
		panic(err) // the sections above always encode
	}
	return d
}

// EditRoute53 returns d, a route53 "dns" section, with edit applied.
func EditRoute53(d plan.DNS, edit func(*route53.Section)) (plan.DNS, error) {
	var s route53.Section
	if err := json.Unmarshal(d.Section, &s); err != nil {
		return d, fmt.Errorf("decode the dns section: %w", err)
	}
	edit(&s)
	return plan.NewDNS(d.Router, s)
}
