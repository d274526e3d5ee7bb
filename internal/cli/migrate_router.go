//go:build !lean

package cli

import (
	"fmt"

	"k8s.io/client-go/kubernetes"

	"github.com/bluegreen/bluegreen/internal/plan"
	"github.com/bluegreen/bluegreen/internal/traffic"
)

// router builds the spec's router and its targets, one per record; the
// router validated every target's options when it parsed its section.
func (s *migrateSession) router() (traffic.Router, []traffic.Target, error) {
	targets, err := s.m.DNS.Targets()
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", plan.ErrInvalid, err)
	}
	r, err := traffic.New(s.m.DNS.Router, traffic.Deps{
		Route53:  s.aws.Route53,
		Clusters: map[string]kubernetes.Interface{string(plan.Blue): s.src.Kube, string(plan.Green): s.dst.Kube},
		Clock:    s.g.clock,
	})
	if err != nil {
		return nil, nil, fmt.Errorf("%w: dns.router: %w", plan.ErrInvalid, err)
	}
	return r, targets, nil
}
