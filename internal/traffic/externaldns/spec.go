package externaldns

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/bluegreen/bluegreen/internal/spec"
	"github.com/bluegreen/bluegreen/internal/traffic"
)

// Section is the cluster scope's "dns" section for this router.
type Section struct {
	Router  string       `json:"router"`
	Records []SpecRecord `json:"records"`
}

// SpecRecord is one weighted record with an annotated object per cluster.
type SpecRecord = traffic.RecordSpec[SpecSet]

// SpecSet is the object external-dns publishes a cluster's record set from.
type SpecSet struct {
	SetIdentifier string `json:"setIdentifier"`
	// Object is "service/<ns>/<name>" or "ingress/<ns>/<name>".
	Object string `json:"object"`
}

// records parses, defaults and validates a "dns" section into one target
// per record, with the options ParseOptions reads.
func records(section []byte) ([]traffic.Target, error) {
	var s Section
	if err := spec.DecodeStrict("dns", section, &s); err != nil {
		return nil, err
	}
	shared := make([]traffic.WeightedRecord, len(s.Records))
	ids := make([][2]string, len(s.Records))
	for i := range s.Records {
		r := &s.Records[i]
		r.Defaults(false)
		shared[i], ids[i] = r.WeightedRecord, [2]string{r.Blue.SetIdentifier, r.Green.SetIdentifier}
	}
	if err := traffic.CheckWeightedRecords(shared, ids); err != nil {
		return nil, err
	}
	out := make([]traffic.Target, 0, len(s.Records))
	for i, r := range s.Records {
		opts, carriers := map[string]string{}, map[string]string{}
		for color, set := range map[string]SpecSet{"blue": r.Blue, "green": r.Green} {
			if set.Object == "" {
				return nil, fmt.Errorf("dns.records[%d] %s %s.object is required with external-dns, e.g. service/shop/web", i, r.Name, color)
			}
			opts[ColorOption(color, ObjectOption)] = set.Object
			opts[ColorOption(color, SetIdentifierOption)] = set.SetIdentifier
			carriers[color] = set.SetIdentifier
		}
		t := traffic.Target{Name: r.Name, Options: opts, Carriers: carriers, Settle: r.Settle(false)}
		if _, err := ParseOptions(t); err != nil {
			return nil, fmt.Errorf("dns.records[%d] %s: %w", i, r.Name, err)
		}
		out = append(out, t)
	}
	return out, nil
}

// ObservableAfterStandby implements traffic.LateObserver: the target
// cluster's object may only exist once the standby copy made it.
func (r *Router) ObservableAfterStandby(traffic.Target) bool { return true }

// MutateStandby implements traffic.StandbyMutator. The copy of an object
// that external-dns publishes for color gets color's own set identifier at
// weight 0: copied as is, it would carry the source's identifier and
// weight, and the target cluster's external-dns would publish the source's
// record set.
func (r *Router) MutateStandby(targets []traffic.Target, color string) func(*unstructured.Unstructured) error {
	owned := map[string]string{} // "kind/ns/name" → color's set identifier
	for _, t := range targets {
		cfg, err := ParseOptions(t)
		if err != nil {
			continue // validated when the targets were parsed
		}
		if o, ok := cfg.Objects[color]; ok {
			owned[o.Object.String()] = o.SetIdentifier
		}
	}
	if len(owned) == 0 {
		return nil
	}
	return func(u *unstructured.Unstructured) error {
		key := strings.ToLower(u.GetKind()) + "/" + u.GetNamespace() + "/" + u.GetName()
		id, ok := owned[key]
		if !ok {
			return nil
		}
		a := u.GetAnnotations()
		if a == nil {
			a = map[string]string{}
		}
		a[SetIdentifierAnnotation] = id
		a[WeightAnnotation] = "0"
		u.SetAnnotations(a)
		return nil
	}
}
