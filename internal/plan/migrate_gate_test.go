package plan

import (
	"errors"
	"strings"
	"testing"

	"github.com/bluegreen/bluegreen/internal/check"
)

// Every shift is gated: by the target health of B's load balancers, by
// the spec's checks, or — only when the spec says so — by nothing. A
// migration with no gate is refused before anything is planned, naming
// the three ways out; each shift's description says what gates it.
func TestMigrationPlanRequiresAGate(t *testing.T) {
	httpCheck := check.Spec{Name: "shop", HTTP: &check.HTTPConfig{URL: "https://shop.example.com/healthz"}}
	tests := []struct {
		name     string
		edit     func(*Migration)
		wantErr  []string
		wantGate string
	}{
		{"no gate", func(m *Migration) { m.Target.LoadBalancers = nil },
			[]string{"nothing gates the shifts", "target.loadBalancers", "checks", "allowUngated: true", "--allow-ungated"}, ""},
		{"allowed ungated", func(m *Migration) { m.Target.LoadBalancers = nil; m.AllowUngated = true }, nil, "ungated (allowUngated)"},
		{"target health", func(*Migration) {}, nil, "check the target health of b-web"},
		{"checks only", func(m *Migration) { m.Target.LoadBalancers = nil; m.Checks = []check.Spec{httpCheck} }, nil, "run 1 check"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := validMigration()
			tt.edit(&m)
			steps, err := MigrationPlan(observedDB(), m)
			if tt.wantErr != nil {
				if !errors.Is(err, ErrInvalid) {
					t.Fatalf("err = %v, want ErrInvalid", err)
				}
				for _, w := range tt.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Fatalf("err = %v, want it to name %q", err, w)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range steps {
				if s.Kind == KindShift && !strings.Contains(s.Description, tt.wantGate) {
					t.Fatalf("step %s: %q, want the gate %q", s.Name, s.Description, tt.wantGate)
				}
			}
		})
	}
}
