package gatewayapi_test

import (
	"errors"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/bluegreen/bluegreen/internal/traffic"
	"github.com/bluegreen/bluegreen/internal/traffic/gatewayapi"
)

var testConfig = gatewayapi.Config{Product: "payments", Namespaces: product.Namespaces, RouteNamespace: "payments-gateway",
	ParentRefs: []gatewayapi.ParentRef{{Name: "public", Namespace: "gateway-system", SectionName: "http"}}}

// route builds an HTTPRoute whose rules send to the given backends.
func route(rules ...[]gwv1.HTTPBackendRef) *gwv1.HTTPRoute {
	r := &gwv1.HTTPRoute{ObjectMeta: metav1.ObjectMeta{Name: "bluegreen-payments-prod", Namespace: "payments-gateway"}}
	for i, refs := range rules {
		path := []string{"/payment", "/"}[i%2]
		r.Spec.Rules = append(r.Spec.Rules, gwv1.HTTPRouteRule{
			Matches:     []gwv1.HTTPRouteMatch{{Path: &gwv1.HTTPPathMatch{Value: &path}}},
			BackendRefs: refs})
	}
	return r
}

func backend(ns string, weight *int32) gwv1.HTTPBackendRef {
	n := gwv1.Namespace(ns)
	return gwv1.HTTPBackendRef{BackendRef: gwv1.BackendRef{BackendObjectReference: gwv1.BackendObjectReference{Name: "payment", Namespace: &n}, Weight: weight}}
}

func w(n int32) *int32 { return &n }

// A route's weights read back as percent; rules must agree.
func TestSplitOf(t *testing.T) {
	tests := []struct {
		name  string
		route *gwv1.HTTPRoute
		want  traffic.Split
		err   string
	}{
		{"all on blue", route([]gwv1.HTTPBackendRef{backend("payments-blue", w(100)), backend("payments-green", w(0))}), traffic.Split{"blue": 100, "green": 0}, ""},
		{"90/10 on two rules", route(
			[]gwv1.HTTPBackendRef{backend("payments-blue", w(90)), backend("payments-green", w(10))},
			[]gwv1.HTTPBackendRef{backend("payments-blue", w(90)), backend("payments-green", w(10))}), traffic.Split{"blue": 90, "green": 10}, ""},
		{"relative weights", route([]gwv1.HTTPBackendRef{backend("payments-blue", w(1)), backend("payments-green", w(3))}), traffic.Split{"blue": 25, "green": 75}, ""},
		{"no weight weighs 1", route([]gwv1.HTTPBackendRef{backend("payments-blue", nil), backend("payments-green", nil)}), traffic.Split{"blue": 50, "green": 50}, ""},
		{"one color only", route([]gwv1.HTTPBackendRef{backend("payments-green", w(5))}), traffic.Split{"blue": 0, "green": 100}, ""},
		{"rules disagree", route(
			[]gwv1.HTTPBackendRef{backend("payments-blue", w(90)), backend("payments-green", w(10))},
			[]gwv1.HTTPBackendRef{backend("payments-blue", w(100)), backend("payments-green", w(0))}), nil,
			"httproute payments-gateway/bluegreen-payments-prod: rules disagree: rule 0 (/payment) sends blue=90,green=10, rule 1 (/) sends blue=100,green=0"},
		{"all weights 0", route([]gwv1.HTTPBackendRef{backend("payments-blue", w(0)), backend("payments-green", w(0))}), nil, "rule 0 (/payment) gives every backend weight 0"},
		{"foreign namespace", route([]gwv1.HTTPBackendRef{backend("payments-red", w(1))}), nil, "sends to payments-red/payment, in neither color's namespace (blue: payments-blue, green: payments-green)"},
		{"no rules", route(), nil, "has no rules"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := gatewayapi.SplitOf(tt.route, testConfig)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.String() != tt.want.String() {
				t.Fatalf("split = %s, want %s", got, tt.want)
			}
		})
	}
}

// Preprod reaches the color with the smaller share; on an even split it
// stays where it is, or goes to the color that sorts last.
func TestPreprodColor(t *testing.T) {
	cs := []string{"green", "blue"}
	tests := []struct {
		split   traffic.Split
		current string
		want    string
	}{
		{traffic.Split{"blue": 100, "green": 0}, "", "green"},
		{traffic.Split{"blue": 0, "green": 100}, "green", "blue"},
		{traffic.Split{"blue": 90, "green": 10}, "green", "green"},
		{traffic.Split{"blue": 40, "green": 60}, "green", "blue"},
		{traffic.Split{"blue": 50, "green": 50}, "blue", "blue"},
		{traffic.Split{"blue": 50, "green": 50}, "green", "green"},
		{traffic.Split{"blue": 50, "green": 50}, "", "green"},
		{traffic.Split{"blue": 50, "green": 50}, "red", "green"},
	}
	for _, tt := range tests {
		if got := gatewayapi.PreprodColor(tt.split, tt.current, cs); got != tt.want {
			t.Errorf("PreprodColor(%s, %q) = %s, want %s", tt.split, tt.current, got, tt.want)
		}
	}
}

// A controller's report is read per parent and condition, for the written
// generation or a later one; a False anywhere is a rejection.
func TestVerdict(t *testing.T) {
	ns := gwv1.Namespace("gateway-system")
	section := gwv1.SectionName("http")
	parent := gwv1.ParentReference{Name: "public", Namespace: &ns, SectionName: &section}
	cond := func(typ gwv1.RouteConditionType, st metav1.ConditionStatus, gen int64) metav1.Condition {
		return metav1.Condition{Type: string(typ), Status: st, ObservedGeneration: gen, Reason: "Because", Message: "it says so"}
	}
	tests := []struct {
		name   string
		parent gwv1.ParentReference
		conds  []metav1.Condition
		done   bool
		err    string
	}{
		{"both true", parent, []metav1.Condition{cond("Accepted", "True", 2), cond("ResolvedRefs", "True", 3)}, true, ""},
		{"nothing yet", parent, nil, false, ""},
		{"older generation", parent, []metav1.Condition{cond("Accepted", "False", 1), cond("ResolvedRefs", "True", 1)}, false, ""},
		{"one missing", parent, []metav1.Condition{cond("Accepted", "True", 2)}, false, ""},
		{"unknown", parent, []metav1.Condition{cond("Accepted", "Unknown", 2), cond("ResolvedRefs", "True", 2)}, false, ""},
		{"another listener", gwv1.ParentReference{Name: "public", Namespace: &ns}, []metav1.Condition{cond("Accepted", "True", 2), cond("ResolvedRefs", "True", 2)}, false, ""},
		{"refs not resolved", parent, []metav1.Condition{cond("Accepted", "True", 2), cond("ResolvedRefs", "False", 2)},
			false, "httproute payments-gateway/bluegreen-payments-prod on Gateway gateway-system/public/http: ResolvedRefs is False, reason Because: it says so"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := route()
			r.Status.Parents = []gwv1.RouteParentStatus{{ParentRef: tt.parent, ControllerName: "example.com/gateway", Conditions: tt.conds}}
			done, err := gatewayapi.Verdict(r, 2, testConfig.ParentRefs)
			if tt.err != "" {
				if !errors.Is(err, gatewayapi.ErrRejected) || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want ErrRejected with %q", err, tt.err)
				}
				return
			}
			if err != nil || done != tt.done {
				t.Fatalf("Verdict = %v, %v, want %v", done, err, tt.done)
			}
		})
	}
}
