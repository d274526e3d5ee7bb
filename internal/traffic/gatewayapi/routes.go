package gatewayapi

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
	gwac "sigs.k8s.io/gateway-api/applyconfiguration/apis/v1"
	gwacb1 "sigs.k8s.io/gateway-api/applyconfiguration/apis/v1beta1"

	"github.com/bluegreen/bluegreen/internal/traffic"
)

// FieldManager owns the fields bluegreen applies to its routes and grants.
const FieldManager = "bluegreen"

// Labels on every object the router writes, so that people and tools can
// tell them apart from routes they own themselves.
const (
	LabelManagedBy = "app.kubernetes.io/managed-by"
	LabelProduct   = "bluegreen.dev/product"
	// LabelRoute is traffic.HostProd or traffic.HostPreprod.
	LabelRoute = "bluegreen.dev/route"
)

// RouteName names the HTTPRoute of a product's host: role is
// traffic.HostProd or traffic.HostPreprod.
func RouteName(product, role string) string { return "bluegreen-" + product + "-" + role }

// GrantName names the ReferenceGrant in each color's namespace that lets
// the routes reach its Services.
func GrantName(product string) string { return "bluegreen-" + product }

func labels(product, role string) map[string]string {
	l := map[string]string{LabelManagedBy: FieldManager, LabelProduct: product}
	if role != "" {
		l[LabelRoute] = role
	}
	return l
}

// routeApply is the whole of what bluegreen owns on one route: its host,
// its Gateways and, for each rule, the rule's Service in every color's
// namespace with that color's weight. A color missing from weights gets 0.
func routeApply(cfg Config, role, host string, weights traffic.Split) *gwac.HTTPRouteApplyConfiguration {
	parents := make([]*gwac.ParentReferenceApplyConfiguration, len(cfg.ParentRefs))
	for i, p := range cfg.ParentRefs {
		parents[i] = gwac.ParentReference().WithName(gwv1.ObjectName(p.Name)).WithNamespace(gwv1.Namespace(p.Namespace))
		if p.SectionName != "" {
			parents[i].WithSectionName(gwv1.SectionName(p.SectionName))
		}
	}
	rules := make([]*gwac.HTTPRouteRuleApplyConfiguration, len(cfg.Rules))
	for i, r := range cfg.Rules {
		match := gwac.HTTPRouteMatch().WithPath(gwac.HTTPPathMatch().WithType(gwv1.PathMatchPathPrefix).WithValue(r.PathPrefix))
		rule := gwac.HTTPRouteRule().WithMatches(match)
		for _, c := range colors(cfg.Namespaces) {
			rule.WithBackendRefs(gwac.HTTPBackendRef().WithName(gwv1.ObjectName(r.Service)).
				WithNamespace(gwv1.Namespace(cfg.Namespaces[c])).WithPort(int32(r.Port)).WithWeight(int32(weights[c])))
		}
		rules[i] = rule
	}
	return gwac.HTTPRoute(RouteName(cfg.Product, role), cfg.RouteNamespace).
		WithLabels(labels(cfg.Product, role)).
		WithSpec(gwac.HTTPRouteSpec().WithParentRefs(parents...).WithHostnames(gwv1.Hostname(host)).WithRules(rules...))
}

// restoreApply is the apply configuration that puts route's spec back as
// it was read, defaults included, so that the fields bluegreen owns after
// applying it are exactly those of the route read.
func restoreApply(cfg Config, role string, route *gwv1.HTTPRoute) (*gwac.HTTPRouteApplyConfiguration, error) {
	raw, err := json.Marshal(route.Spec)
	if err != nil {
		return nil, err
	}
	var spec gwac.HTTPRouteSpecApplyConfiguration
	if err := json.Unmarshal(raw, &spec); err != nil {
		return nil, err
	}
	return gwac.HTTPRoute(route.Name, route.Namespace).WithLabels(labels(cfg.Product, role)).WithSpec(&spec), nil
}

// grantApply lets HTTPRoutes of the route namespace reach the rules'
// Services in namespace ns, and nothing else there.
func grantApply(cfg Config, ns string) *gwacb1.ReferenceGrantApplyConfiguration {
	var services []string
	for _, r := range cfg.Rules {
		if !slices.Contains(services, r.Service) {
			services = append(services, r.Service)
		}
	}
	slices.Sort(services)
	// v1beta1 for the object (every Gateway API release serves it; v1
	// came with 1.5), whose spec is v1's.
	spec := gwac.ReferenceGrantSpec().WithFrom(gwac.ReferenceGrantFrom().
		WithGroup(gwv1.GroupName).WithKind("HTTPRoute").WithNamespace(gwv1.Namespace(cfg.RouteNamespace)))
	for _, s := range services {
		spec.WithTo(gwac.ReferenceGrantTo().WithGroup("").WithKind("Service").WithName(gwv1.ObjectName(s)))
	}
	return gwacb1.ReferenceGrant(GrantName(cfg.Product), ns).WithLabels(labels(cfg.Product, "")).WithSpec(spec)
}

// SplitOf reads the split a route carries: each rule's weights per color
// (a backend without a weight weighs 1, as the Gateway API defaults it),
// turned into percent. Every rule must carry the same split; a backend in
// a namespace of neither color, or a rule whose weights are all 0 (the
// Gateway answers 500), is an error.
func SplitOf(route *gwv1.HTTPRoute, cfg Config) (traffic.Split, error) {
	name := route.Namespace + "/" + route.Name
	if len(route.Spec.Rules) == 0 {
		return nil, fmt.Errorf("httproute %s has no rules: shift traffic again to write them", name)
	}
	colorOf := make(map[string]string, len(cfg.Namespaces))
	for c, ns := range cfg.Namespaces {
		colorOf[ns] = c
	}
	var first traffic.Split
	for i, rule := range route.Spec.Rules {
		weights := make(map[string]int64, len(cfg.Namespaces))
		for c := range cfg.Namespaces {
			weights[c] = 0
		}
		var sum int64
		for _, ref := range rule.BackendRefs {
			ns := route.Namespace
			if ref.Namespace != nil {
				ns = string(*ref.Namespace)
			}
			c, ok := colorOf[ns]
			if !ok {
				return nil, fmt.Errorf("httproute %s: %s sends to %s/%s, in neither color's namespace (%s): shift traffic again to rewrite the route",
					name, ruleName(rule, i), ns, ref.Name, namespaceList(cfg.Namespaces))
			}
			w := int64(1)
			if ref.Weight != nil {
				w = int64(*ref.Weight)
			}
			weights[c] += w
			sum += w
		}
		if sum <= 0 {
			return nil, fmt.Errorf("httproute %s: %s gives every backend weight 0, so the Gateway answers 500: shift traffic again to give it a split", name, ruleName(rule, i))
		}
		split := traffic.SplitFromWeights(weights)
		if i == 0 {
			first = split
			continue
		}
		if !equal(first, split) {
			return nil, fmt.Errorf("httproute %s: rules disagree: %s sends %s, %s sends %s: shift traffic again (resume or roll back the release) to give every rule one split",
				name, ruleName(route.Spec.Rules[0], 0), first, ruleName(rule, i), split)
		}
	}
	return first, nil
}

// ruleName describes a rule by its first path match, e.g. "rule 1 (/payment)".
func ruleName(r gwv1.HTTPRouteRule, i int) string {
	if len(r.Matches) > 0 && r.Matches[0].Path != nil && r.Matches[0].Path.Value != nil {
		return fmt.Sprintf("rule %d (%s)", i, *r.Matches[0].Path.Value)
	}
	return fmt.Sprintf("rule %d", i)
}

func equal(a, b traffic.Split) bool {
	if len(a) != len(b) {
		return false
	}
	for c, p := range a {
		if q, ok := b[c]; !ok || q != p {
			return false
		}
	}
	return true
}

func namespaceList(m map[string]string) string {
	var out []string
	for _, c := range colors(m) {
		out = append(out, c+": "+m[c])
	}
	return strings.Join(out, ", ")
}

// PreprodColor is the color the preprod host reaches under split s: the
// idle one, i.e. the color with the smaller share. On an even split there
// is no idle color, so preprod stays on current (the color the preprod
// route reaches now) when that is a color, and otherwise goes to the color
// that sorts last ("green" of blue and green), so that the choice never
// depends on map order.
func PreprodColor(s traffic.Split, current string, cs []string) string {
	sorted := slices.Clone(cs)
	slices.Sort(sorted)
	idle, tie := "", false
	for _, c := range sorted {
		switch {
		case idle == "" || s[c] < s[idle]:
			idle, tie = c, false
		case s[c] == s[idle]:
			tie = true
		}
	}
	if !tie {
		return idle
	}
	if slices.Contains(sorted, current) {
		return current
	}
	return sorted[len(sorted)-1]
}

// reaches is the color a preprod route sends the larger share to, or ""
// when it cannot be read (missing, or not one split).
func reaches(route *gwv1.HTTPRoute, cfg Config) string {
	if route == nil {
		return ""
	}
	s, err := SplitOf(route, cfg)
	if err != nil {
		return ""
	}
	best := ""
	for _, c := range colors(cfg.Namespaces) {
		if best == "" || s[c] > s[best] {
			best = c
		}
	}
	if s[best]*2 == 100 {
		return ""
	}
	return best
}
