package cli

import (
	"testing"

	"github.com/bluegreen/bluegreen/internal/plan"
)

func TestRollbackCost(t *testing.T) {
	colors := func(blueReady, greenReady int32) map[plan.Color]*colorStatus {
		return map[plan.Color]*colorStatus{
			plan.Blue:  {Exists: true, Ready: blueReady, Desired: blueReady},
			plan.Green: {Exists: true, Ready: greenReady, Desired: greenReady},
		}
	}
	tests := []struct {
		name   string
		view   statusView
		want   string // "" for no rollback line
		ready  int32
		needed int32
	}{
		{"old color at full size", statusView{Active: plan.Green, Colors: colors(3, 3)}, "instant", 3, 3},
		{"old color scaled down", statusView{Active: plan.Green, Colors: colors(0, 3)}, "needs-scale-up", 0, 3},
		{"old color kept partly warm", statusView{Active: plan.Blue, Colors: colors(4, 1)}, "needs-scale-up", 1, 4},
		{"no active color", statusView{Colors: colors(3, 3)}, "", 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := rollbackCostOf(tt.view)
			if tt.want == "" {
				if got != nil {
					t.Fatalf("rollback = %+v, want none", got)
				}
				return
			}
			if got == nil || got.Cost != tt.want || got.Ready != tt.ready || got.Needed != tt.needed || got.Color != tt.view.Active.Other() {
				t.Fatalf("rollback = %+v, want %s (%d of %d ready)", got, tt.want, tt.ready, tt.needed)
			}
		})
	}
}
