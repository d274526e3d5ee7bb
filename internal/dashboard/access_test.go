package dashboard_test

import (
	"slices"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/bluegreen/bluegreen/deploy"
	"github.com/bluegreen/bluegreen/internal/dashboard"
)

// shippedRole returns the rules of a ClusterRole of the shipped
// service-scope RBAC.
func shippedRole(t *testing.T, name string) []rbacv1.PolicyRule {
	t.Helper()
	cr, err := deploy.ClusterRole("service-scope.yaml", name)
	if err != nil {
		t.Fatal(err)
	}
	return cr.Rules
}

func grants(rules []rbacv1.PolicyRule, r dashboard.Right) bool {
	res := r.Resource
	if r.Subresource != "" {
		res += "/" + r.Subresource
	}
	for _, rule := range rules {
		if slices.Contains(rule.APIGroups, r.Group) && slices.Contains(rule.Resources, res) && slices.Contains(rule.Verbs, r.Verb) {
			return true
		}
	}
	return false
}

// A button the dashboard enables must be one the shipped releaser role
// can press, and one the shipped view role cannot: the access review asks
// for exactly the writes a promote or rollback makes.
func TestButtonsNeedTheReleasersRights(t *testing.T) {
	releaser, viewer := shippedRole(t, "bluegreen-service"), shippedRole(t, "bluegreen-view")
	for _, v := range dashboard.Verbs {
		rights := dashboard.Rights[v]
		if len(rights) == 0 {
			t.Fatalf("%s asks for no right: every user would see it enabled", v)
		}
		for _, r := range rights {
			if !grants(releaser, r) {
				t.Errorf("%s asks to %s; the shipped bluegreen-service role does not grant it", v, r)
			}
			if grants(viewer, r) {
				t.Errorf("%s asks to %s, which the read-only bluegreen-view role grants", v, r)
			}
		}
	}
}

func TestListenOnlyOnLoopback(t *testing.T) {
	for _, c := range []struct {
		addr string
		ok   bool
	}{
		{"127.0.0.1:8765", true},
		{"localhost:0", true},
		{"[::1]:8765", true},
		{"127.0.0.2:80", true},
		{"0.0.0.0:8765", false},
		{":8765", false},
		{"[::]:8765", false},
		{"10.0.0.5:8765", false},
		{"dash.example.com:8765", false},
		{"127.0.0.1", false},
	} {
		err := dashboard.CheckLoopback(c.addr)
		if (err == nil) != c.ok {
			t.Errorf("CheckLoopback(%q) = %v, want ok=%v", c.addr, err, c.ok)
		}
	}
}
