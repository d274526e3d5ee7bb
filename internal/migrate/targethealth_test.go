package migrate

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/bluegreen/bluegreen/internal/engine"
	"github.com/bluegreen/bluegreen/internal/journal"
	"github.com/bluegreen/bluegreen/internal/plan"
	"github.com/bluegreen/bluegreen/test/awsfake"
)

// Every shift is gated by the target health of B's load balancers, with
// no check configured: a target group with an unhealthy target (or none
// healthy) fails the shift, naming the group and the target, so that the
// engine rolls the run back; all targets healthy lets it pass, and the
// result is journaled with the step.
func TestShiftIsGatedByTheTargetHealthOfB(t *testing.T) {
	tests := []struct {
		name    string
		targets map[string]string
		wantErr []string
	}{
		{"healthy", map[string]string{"i-0b0000000000000001": "healthy", "i-0b0000000000000002": "healthy"}, nil},
		{"one unhealthy", map[string]string{"i-0b0000000000000001": "healthy", "i-0b0000000000000002": "unhealthy"},
			[]string{"target-health", "i-0b0000000000000002", "green-web-tg", "unhealthy"}},
		{"none healthy yet", map[string]string{"i-0b0000000000000001": "initial"}, []string{"green-web-tg", "no healthy target"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Given weighted records at 100/0 and B's load balancer with these targets
			fake, zone, _ := shiftWorld(t, blueLB, greenLB)
			lb := fake.AddLoadBalancer(awsfake.LoadBalancer{Name: "green-web"})
			if _, err := fake.AddTargetGroup(lb, "green-web-tg", tt.targets); err != nil {
				t.Fatal(err)
			}
			env := shiftEnv(t, fake, zone, blueLB, greenLB)
			env.TargetLoadBalancers = []string{"green-web"}
			env.TargetHealthWait = 300 * time.Millisecond

			// When the first shift runs, with no check configured
			raw, _ := json.Marshal(plan.ShiftParams{Green: 10, Previous: 0})
			out, err := Actions(env)[plan.KindShift].Do(context.Background(),
				engine.Exec{Run: &journal.Run{ID: "run"}, Step: &journal.Step{Name: "shift-10", Kind: plan.KindShift, Params: raw}})

			// Then the target health gates it
			if tt.wantErr == nil {
				res, _ := out.([]CheckResult)
				if err != nil || len(res) != 1 || res[0].Name != "target-health" || !res[0].Passed {
					t.Fatalf("shift = %v, %v; want it passed by target-health", out, err)
				}
				return
			}
			if !errors.Is(err, ErrChecksFailed) {
				t.Fatalf("err = %v, want ErrChecksFailed", err)
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Fatalf("err = %v, want it to name %q", err, w)
				}
			}
		})
	}
}
