package plan

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/bluegreen/bluegreen/internal/check"
	"github.com/bluegreen/bluegreen/internal/journal"
	"github.com/bluegreen/bluegreen/internal/traffic"
)

// NamespaceKind is the kind a namespace-scope spec declares.
const NamespaceKind = "NamespaceRelease"

// Step kinds of the namespace scope besides the service scope's, which it
// runs on each service of the idle namespace.
const (
	KindGatewaySwitch   = "gateway-switch"
	KindCopyToNamespace = "copy-to-namespace"
	KindGatewayAdopt    = "gateway-adopt"
)

// NamespaceRelease is a namespace-scope release: a product's services run
// twice, in one namespace per color, behind gateways that send the
// production host to the active namespace and the preprod host to the idle
// one. A release deploys to the idle namespace, checks it through the
// preprod host, and switches the gateways.
type NamespaceRelease struct {
	Kind    string `json:"kind"`
	Product string `json:"product"`
	// Namespaces holds each color's namespace.
	Namespaces map[Color]string `json:"namespaces"`
	// Services are the product's Deployments, named alike in both
	// namespaces; those with an image get it in the idle namespace.
	Services []NamespaceService `json:"services"`
	// Gateway is the router's section: which router, the hosts, each
	// color's entry point and the gateways (see the router's docs).
	Gateway json.RawMessage `json:"gateway"`
	// Checks are the product's own: they run against the idle namespace
	// through the preprod host once every service has rolled out, and
	// against production in the watch window, with each service's.
	Checks         []check.Spec `json:"checks,omitempty"`
	RolloutTimeout Duration     `json:"rolloutTimeout,omitempty"`
	WatchWindow    Duration     `json:"watchWindow,omitempty"`
	WatchInterval  Duration     `json:"watchInterval,omitempty"`
	ScaleDownDelay Duration     `json:"scaleDownDelay,omitempty"`
	KeepWarm       *int32       `json:"keepWarm,omitempty"`
	// Approval is "prompt", "auto" or "pause", as at service scope.
	Approval string `json:"approval,omitempty"`
}

// NamespaceService is one service of a product.
type NamespaceService struct {
	// Name is the Deployment's name in both namespaces.
	Name string `json:"name"`
	// Container is the container whose image changes (default: the only one).
	Container string `json:"container,omitempty"`
	// Image is the new image; empty keeps the service as the active
	// namespace runs it.
	Image string            `json:"image,omitempty"`
	Env   map[string]string `json:"env,omitempty"`
	// Checks run against this service in the idle namespace through the
	// preprod host once it has rolled out, and against production in the
	// watch window.
	Checks []check.Spec `json:"checks,omitempty"`
}

// dnsLabel reports whether s is a valid namespace, Deployment or product name.
func dnsLabel(s string) bool { return len(validation.IsDNS1123Label(s)) == 0 }

// Defaults fills what the spec left empty.
func (r *NamespaceRelease) Defaults() {
	releaseDefaults(&r.RolloutTimeout, &r.WatchInterval, &r.Approval)
}

// Validate checks a spec to deploy before anything is read or written:
// its layout, and a new image for at least one service. Errors wrap
// ErrInvalid and name the field and the fix.
func (r NamespaceRelease) Validate() error {
	if err := r.ValidateLayout(); err != nil {
		return err
	}
	for _, s := range r.Services {
		if s.Image != "" {
			return nil
		}
	}
	return invalid("services: no service has an image: give the new image of at least one (services[].image, or --image SERVICE=IMAGE)")
}

// ValidateLayout checks what every verb reads of a spec (the product, its
// namespaces, services and gateways), not the release's images.
func (r NamespaceRelease) ValidateLayout() error {
	switch {
	case r.Kind != NamespaceKind:
		return invalid("kind %q: want %s", r.Kind, NamespaceKind)
	case !dnsLabel(r.Product):
		return invalid("product %q: want lower-case letters, digits and '-', e.g. payments", r.Product)
	case len(r.Namespaces) != 2 || r.Namespaces[Blue] == "" || r.Namespaces[Green] == "":
		return invalid("namespaces: want one per color, e.g. {blue: payments-blue, green: payments-green}")
	case r.Namespaces[Blue] == r.Namespaces[Green]:
		return invalid("namespaces: blue and green are both %q: want two namespaces", r.Namespaces[Blue])
	case len(r.Services) == 0:
		return invalid("services: want at least one, e.g. [{name: payment, image: registry/payment:2.0.0}]")
	case len(r.Gateway) == 0:
		return invalid("gateway: required: the router and the gateways that switch the hosts (see docs/namespace-scope.md)")
	}
	for _, c := range []Color{Blue, Green} {
		if !dnsLabel(r.Namespaces[c]) {
			return invalid("namespaces.%s %q: not a namespace name", c, r.Namespaces[c])
		}
	}
	seen := map[string]bool{}
	for i, s := range r.Services {
		if !dnsLabel(s.Name) {
			return invalid("services[%d].name %q: want a Deployment name", i, s.Name)
		}
		if seen[s.Name] {
			return invalid("services[%d].name %q: listed twice", i, s.Name)
		}
		seen[s.Name] = true
		if s.Image != "" {
			if err := ValidateImage(s.Image); err != nil {
				return fmt.Errorf("services[%d] (%s): %w", i, s.Name, err)
			}
		}
		for j, c := range s.Checks {
			if err := c.Validate(); err != nil {
				return invalid("services[%d] (%s).checks[%d]: %v", i, s.Name, j, err)
			}
		}
	}
	for i, c := range r.Checks {
		if err := c.Validate(); err != nil {
			return invalid("checks[%d]: %v", i, err)
		}
	}
	switch r.Approval {
	case "prompt", "auto", "pause":
	default:
		return invalid("approval %q: want prompt, auto (--yes) or pause (--pause)", r.Approval)
	}
	if r.KeepWarm != nil && *r.KeepWarm < 0 {
		return invalid("keepWarm %d: must be 0 or more", *r.KeepWarm)
	}
	if r.WatchWindow < 0 || r.WatchInterval < 0 {
		return invalid("watchWindow %s, watchInterval %s: must not be negative", r.WatchWindow, r.WatchInterval)
	}
	return nil
}

// validateEntrances refuses checks that send a request to a path when the
// gateway section names no gateway to send it to.
func (r NamespaceRelease) validateEntrances(target traffic.Target) error {
	if len(target.Entrances) > 0 {
		return nil
	}
	where := func(field string, cs []check.Spec) error {
		for j, c := range cs {
			if c.HTTP != nil && c.HTTP.IsPath() {
				return invalid("%s[%d] (%s): url %s is a path, but the gateway section gives no address to send it to: give each gateway's address, or an absolute url", field, j, c.Name, c.HTTP.URL)
			}
		}
		return nil
	}
	for i, s := range r.Services {
		if err := where(fmt.Sprintf("services[%d] (%s).checks", i, s.Name), s.Checks); err != nil {
			return err
		}
	}
	return where("checks", r.Checks)
}

// serviceNames lists the product's services in spec order.
func (r NamespaceRelease) serviceNames() []string {
	out := make([]string, len(r.Services))
	for i, s := range r.Services {
		out[i] = s.Name
	}
	return out
}

// Switch is the product as the traffic routers see it.
func (r NamespaceRelease) Switch() traffic.NamespaceSwitch {
	ns := map[string]string{}
	for c, n := range r.Namespaces {
		ns[string(c)] = n
	}
	return traffic.NamespaceSwitch{Product: r.Product, Namespaces: ns}
}

// NamespaceObserved is what the clusters and the gateways hold for a
// product, read before planning.
type NamespaceObserved struct {
	// Active is the color the gateways send production to.
	Active Color
	// Deployments holds, per color, each service's Deployment (a missing
	// key: no such Deployment in that namespace).
	Deployments map[Color]map[string]*DeploymentInfo
}

// GatewaySwitchParams moves production to To through the router's target,
// and the preprod host to From.
type GatewaySwitchParams struct {
	Product string         `json:"product"`
	Router  string         `json:"router"`
	Target  traffic.Target `json:"target"`
	From    Color          `json:"from"`
	To      Color          `json:"to"`
}

// NamespaceChecksParams runs checks against one color of a product, each
// through every entrance (gateway) with Host: the pods of Services must be
// Ready, their checks pass, and the product's own when ProductChecks.
type NamespaceChecksParams struct {
	Product       string             `json:"product"`
	Services      []string           `json:"services,omitempty"`
	ProductChecks bool               `json:"productChecks,omitempty"`
	Namespace     string             `json:"namespace"`
	Color         Color              `json:"color"`
	Host          string             `json:"host"`
	Entrances     []traffic.Entrance `json:"entrances,omitempty"`
	// Phase is "preview" before the switch and "watch" after it.
	Phase string `json:"phase"`
}

// NamespaceWatchParams runs every check against production, Interval
// apart, until Window has passed since the switch.
type NamespaceWatchParams struct {
	NamespaceChecksParams
	Window   Duration `json:"window"`
	Interval Duration `json:"interval"`
}

// NamespaceDeploy compiles a namespace-scope release into steps: each
// service rolled out in the idle namespace side by side (one lane per
// service) with its checks through the preprod host, the product's checks,
// the approval, the gateways switched in one step, the watch window, and
// the old namespace scaled down if asked. router and target are the parsed
// gateway section.
func NamespaceDeploy(obs NamespaceObserved, rel NamespaceRelease, router string, target traffic.Target) ([]journal.Step, error) {
	if err := rel.Validate(); err != nil {
		return nil, err
	}
	if err := rel.validateEntrances(target); err != nil {
		return nil, err
	}
	if !obs.Active.Valid() {
		return nil, invalid("the gateways route production to no known color (%q): run `bluegreen namespace init` first", obs.Active)
	}
	active := obs.Active
	idle := active.Other()
	actNS, idleNS := rel.Namespaces[active], rel.Namespaces[idle]
	var rollout, rescale, downs []journal.Step
	for _, s := range rel.Services {
		act, idl := obs.Deployments[active][s.Name], obs.Deployments[idle][s.Name]
		switch {
		case act == nil:
			return nil, invalid("service %s: no Deployment %s in namespace %s (the active color, %s): fix services[] or the namespace", s.Name, s.Name, actNS, active)
		case idl == nil:
			return nil, invalid("service %s: no Deployment %s in namespace %s (the idle color, %s): create it there (the same as in %s), then deploy", s.Name, s.Name, idleNS, idle, actNS)
		}
		lane := "svc/" + s.Name
		idleT := Target{Namespace: idleNS, Deployment: s.Name, Color: idle}
		obj := "deployment/" + idleNS + "/" + s.Name
		if s.Image != "" {
			container, err := pickContainer(idl, s.Container)
			if err != nil {
				return nil, fmt.Errorf("service %s: %w", s.Name, err)
			}
			st := step("set-image/"+s.Name, KindSetImage, fmt.Sprintf("Set %s on %s in the idle namespace %s", s.Image, s.Name, idleNS),
				SetImageParams{Target: idleT, Container: container.Name, Image: s.Image, Env: s.Env, KeepAfterSwitch: true, RetestVia: "the preprod host"},
				mut(obj, "container %s image %s → %s", container.Name, container.Image, s.Image))
			st.Lane = lane
			rollout = append(rollout, st)
		}
		sc := step("scale-idle/"+s.Name, KindScale, fmt.Sprintf("Scale %s in %s to its count in %s (%d now)", s.Name, idleNS, actNS, act.Replicas),
			ScaleParams{Target: idleT, FromActive: s.Name, FromNamespace: actNS, KeepAfterSwitch: true},
			mut(obj, "spec.replicas %d → %d", idl.Replicas, act.Replicas))
		sc.Lane = lane
		wr := step("wait-rollout/"+s.Name, KindWaitRollout, fmt.Sprintf("Wait until %s has rolled out in %s (timeout %s)", s.Name, idleNS, rel.RolloutTimeout),
			WaitRolloutParams{Target: idleT, Timeout: rel.RolloutTimeout})
		wr.Lane = lane
		rollout = append(rollout, sc, wr)
		if len(s.Checks) > 0 {
			ck := step("check-preprod/"+s.Name, KindChecks, fmt.Sprintf("Run %d check(s) of %s in %s through %s", len(s.Checks), s.Name, idleNS, throughGateways(target, traffic.HostPreprod)),
				NamespaceChecksParams{Product: rel.Product, Services: []string{s.Name}, Namespace: idleNS, Color: idle,
					Host: target.Hosts[traffic.HostPreprod], Entrances: target.Entrances, Phase: "preview"})
			ck.Lane = lane
			rollout = append(rollout, ck)
		}
		rs := step("rescale-idle/"+s.Name, KindScale, fmt.Sprintf("Scale %s in %s to its count in %s again, in case it shrank while waiting", s.Name, idleNS, actNS),
			ScaleParams{Target: idleT, FromActive: s.Name, FromNamespace: actNS, KeepAfterSwitch: true, Again: true})
		rs.Lane = lane
		rescale = append(rescale, rs)
		if scaleDown, keep := scalesDown(rel.KeepWarm, rel.ScaleDownDelay); scaleDown {
			d := step("scale-down-old/"+s.Name, KindScaleDown, fmt.Sprintf("%s after the switch, scale %s in %s to %d", rel.ScaleDownDelay, s.Name, actNS, keep),
				ScaleDownParams{Target: Target{Namespace: actNS, Deployment: s.Name, Color: active}, KeepWarm: keep, Delay: rel.ScaleDownDelay, SwitchStep: "switch"},
				mut("deployment/"+actNS+"/"+s.Name, "spec.replicas %d → %d", act.Replicas, keep))
			d.Lane = lane
			downs = append(downs, d)
		}
	}
	// The steps of the services' lanes run side by side.
	slices.SortStableFunc(rollout, func(a, b journal.Step) int { return strings.Compare(a.Lane, b.Lane) })
	steps := rollout
	if len(rel.Checks) > 0 {
		steps = append(steps, step("check-preprod", KindChecks, fmt.Sprintf("Run the product's %d check(s) against %s through %s", len(rel.Checks), idleNS, throughGateways(target, traffic.HostPreprod)),
			NamespaceChecksParams{Product: rel.Product, ProductChecks: true, Namespace: idleNS, Color: idle,
				Host: target.Hosts[traffic.HostPreprod], Entrances: target.Entrances, Phase: "preview"}))
	}
	approval := approvalDesc(rel.Approval)
	if rel.Approval == "pause" {
		approval = "Approval: pause here; `bluegreen namespace promote` continues"
	}
	steps = append(steps, step("approve", KindApprove, approval, nil))
	steps = append(steps, rescale...)
	steps = append(steps, step("switch", KindGatewaySwitch,
		fmt.Sprintf("Switch every gateway: production to %s (%s), preprod to %s (%s); all gateways or none", idle, idleNS, active, actNS),
		GatewaySwitchParams{Product: rel.Product, Router: router, Target: target, From: active, To: idle},
		mut("gateways/"+rel.Product, "production %s → %s, preprod %s → %s", active, idle, idle, active)))
	if rel.WatchWindow > 0 {
		steps = append(steps, step("watch", KindWatch,
			fmt.Sprintf("Watch production on %s (%s) through %s for %s (every %s): every service's pods and checks, and the product's; roll back automatically if one fails",
				idle, idleNS, throughGateways(target, traffic.HostProd), rel.WatchWindow, rel.WatchInterval),
			NamespaceWatchParams{NamespaceChecksParams: NamespaceChecksParams{Product: rel.Product, Services: rel.serviceNames(), ProductChecks: true,
				Namespace: idleNS, Color: idle, Host: target.Hosts[traffic.HostProd], Entrances: target.Entrances, Phase: "watch"},
				Window: rel.WatchWindow, Interval: rel.WatchInterval}))
	}
	return append(steps, downs...), nil
}

// throughGateways says how checks reach host: "preprod.myapp.com on gw-1, gw-2".
func throughGateways(t traffic.Target, host string) string {
	if len(t.Entrances) == 0 {
		return "the checks' own urls"
	}
	names := make([]string, len(t.Entrances))
	for i, e := range t.Entrances {
		names[i] = e.Name
	}
	return fmt.Sprintf("%s on %s", t.Hosts[host], strings.Join(names, ", "))
}

// CopyToNamespaceParams creates Name in To as it is in From, at 0 replicas.
type CopyToNamespaceParams struct {
	Name string `json:"name"`
	From string `json:"from"`
	To   string `json:"to"`
}

// NamespaceInit compiles the adoption of a product into steps: each
// service missing in the idle namespace is created there as it runs in the
// active one, at 0 replicas, and every gateway gets bluegreen's file with
// production on the active namespace and the preprod host on the idle one.
func NamespaceInit(obs NamespaceObserved, rel NamespaceRelease, active Color, router string, target traffic.Target) ([]journal.Step, error) {
	if err := rel.ValidateLayout(); err != nil {
		return nil, err
	}
	if !active.Valid() {
		return nil, invalid("active color %q: want blue or green, the namespace that serves production now", active)
	}
	idle := active.Other()
	actNS, idleNS := rel.Namespaces[active], rel.Namespaces[idle]
	var steps []journal.Step
	for _, s := range rel.Services {
		if obs.Deployments[active][s.Name] == nil {
			return nil, invalid("service %s: no Deployment %s in namespace %s, which serves production (--active %s): fix services[] or --active", s.Name, s.Name, actNS, active)
		}
		if obs.Deployments[idle][s.Name] != nil {
			continue
		}
		steps = append(steps, step("copy/"+s.Name, KindCopyToNamespace, fmt.Sprintf("Create %s in %s as it runs in %s, at 0 replicas", s.Name, idleNS, actNS),
			CopyToNamespaceParams{Name: s.Name, From: actNS, To: idleNS},
			mut("deployment/"+idleNS+"/"+s.Name, "create from %s/%s, replicas 0", actNS, s.Name)))
	}
	return append(steps, step("adopt-gateways", KindGatewayAdopt,
		fmt.Sprintf("Write bluegreen's file on every gateway: production to %s (%s), as now; preprod to %s (%s)", active, actNS, idle, idleNS),
		GatewaySwitchParams{Product: rel.Product, Router: router, Target: target, From: idle, To: active},
		mut("gateways/"+rel.Product, "production → %s, preprod → %s", active, idle))), nil
}
