package nsscope

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/bluegreen/bluegreen/internal/check"
	"github.com/bluegreen/bluegreen/internal/engine"
	"github.com/bluegreen/bluegreen/internal/journal"
	"github.com/bluegreen/bluegreen/internal/plan"
	"github.com/bluegreen/bluegreen/internal/service"
)

// Release decodes the namespace release a run was planned from.
func Release(r *journal.Run) (plan.NamespaceRelease, error) {
	var rel plan.NamespaceRelease
	if err := json.Unmarshal(r.Spec, &rel); err != nil {
		return rel, fmt.Errorf("run %s: decode release spec: %w", r.ID, err)
	}
	return rel, nil
}

// probe is one check run against one target.
type probe struct {
	check check.Check
	// via names the gateway the check went through, for messages.
	via    string
	target check.Target
}

// probes lists what p runs, in order: each service's pods Ready in the
// namespace, then each service's checks and the product's, each through
// every entrance with p.Host. A check with an absolute url goes there
// once: it names its own way in.
func (d Deps) probes(r *journal.Run, p plan.NamespaceChecksParams) ([]probe, error) {
	rel, err := Release(r)
	if err != nil {
		return nil, err
	}
	byName := map[string]plan.NamespaceService{}
	for _, s := range rel.Services {
		byName[s.Name] = s
	}
	base := func(svc string) check.Target {
		return check.Target{App: p.Product, Namespace: p.Namespace, Color: string(p.Color), Image: byName[svc].Image, Phase: p.Phase, Service: svc}
	}
	var out []probe
	for _, svc := range p.Services {
		out = append(out, probe{check: d.Service.ReadyCheck(p.Namespace, svc), target: base(svc)})
	}
	add := func(svc string, specs []check.Spec) error {
		for _, sp := range specs {
			c, err := check.Build(sp, d.Service.CheckDefaults, d.Service.CheckOptions...)
			if err != nil {
				return err
			}
			if len(p.Entrances) == 0 || (sp.HTTP != nil && !sp.HTTP.IsPath()) {
				out = append(out, probe{check: c, target: base(svc)})
				continue
			}
			for _, e := range p.Entrances {
				t := base(svc)
				t.BaseURL, t.Host = "http://"+e.Address, p.Host
				out = append(out, probe{check: c, via: e.Name, target: t})
			}
		}
		return nil
	}
	for _, svc := range p.Services {
		if err := add(svc, byName[svc].Checks); err != nil {
			return nil, fmt.Errorf("service %s: %w", svc, err)
		}
	}
	if p.ProductChecks {
		if err := add("", rel.Checks); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// runChecks runs p's probes in order and fails at the first that does not
// pass, naming the service, the check and the gateway.
func (d Deps) runChecks(ctx context.Context, r *journal.Run, p plan.NamespaceChecksParams) error {
	probes, err := d.probes(r, p)
	if err != nil {
		return err
	}
	for _, pr := range probes {
		res, err := pr.check.Run(ctx, pr.target)
		if err != nil {
			return fmt.Errorf("%s: %w", pr.describe(p), err)
		}
		if !res.Passed {
			return fmt.Errorf("%s failed against %s (%s) after %d attempt(s): %s", pr.describe(p), p.Color, p.Namespace, res.Attempts, res.Detail)
		}
	}
	return nil
}

// describe names a probe: "check healthz of payment through gw-1 (Host preprod.myapp.com)".
func (pr probe) describe(p plan.NamespaceChecksParams) string {
	s := "check " + pr.check.Name()
	if pr.target.Service != "" {
		s += " of " + pr.target.Service
	}
	if pr.via != "" {
		s += fmt.Sprintf(" through %s (Host %s)", pr.via, p.Host)
	}
	return s
}

// checks runs a step's checks against the idle namespace through the
// preprod host.
func (d Deps) checks() engine.Action {
	return engine.Action{Do: func(ctx context.Context, x engine.Exec) (any, error) {
		var p plan.NamespaceChecksParams
		if err := x.Step.DecodeParams(&p); err != nil {
			return nil, err
		}
		return nil, d.runChecks(ctx, x.Run, p)
	}}
}

// watch runs every check against production until the window has passed
// since the switch; a failure fails the step, and the engine rolls the
// gateways back.
func (d Deps) watch() engine.Action {
	return engine.Action{Do: func(ctx context.Context, x engine.Exec) (any, error) {
		var p plan.NamespaceWatchParams
		if err := x.Step.DecodeParams(&p); err != nil {
			return nil, err
		}
		return nil, service.Watch(ctx, d.clock(), x.Run, p.Window, p.Interval, func(ctx context.Context) error {
			return d.runChecks(ctx, x.Run, p.NamespaceChecksParams)
		})
	}}
}
