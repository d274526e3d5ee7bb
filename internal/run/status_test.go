package run

import (
	"strings"
	"testing"

	"github.com/bluegreen/bluegreen/internal/journal"
	"github.com/bluegreen/bluegreen/internal/plan"
)

func TestRollbackCost(t *testing.T) {
	colors := func(blueReady, greenReady int32) map[plan.Color]*ColorStatus {
		return map[plan.Color]*ColorStatus{
			plan.Blue:  {Exists: true, Ready: blueReady, Desired: blueReady},
			plan.Green: {Exists: true, Ready: greenReady, Desired: greenReady},
		}
	}
	tests := []struct {
		name   string
		view   AppStatus
		want   string // "" for no rollback line
		ready  int32
		needed int32
	}{
		{"old color at full size", AppStatus{Active: plan.Green, Colors: colors(3, 3)}, "instant", 3, 3},
		{"old color scaled down", AppStatus{Active: plan.Green, Colors: colors(0, 3)}, "needs-scale-up", 0, 3},
		{"old color kept partly warm", AppStatus{Active: plan.Blue, Colors: colors(4, 1)}, "needs-scale-up", 1, 4},
		{"no active color", AppStatus{Colors: colors(3, 3)}, "", 0, 0},
		{"last run rolled back", AppStatus{Active: plan.Blue, Colors: colors(3, 1),
			Runs: []*journal.Run{{ID: "r2", State: journal.RolledBack}, {ID: "r1", State: journal.Succeeded}}}, "none", 0, 0},
		{"last run aborted", AppStatus{Active: plan.Blue, Colors: colors(3, 0),
			Runs: []*journal.Run{{ID: "r2", State: journal.Aborted}}}, "none", 0, 0},
		{"last run succeeded", AppStatus{Active: plan.Green, Colors: colors(3, 3),
			Runs: []*journal.Run{{ID: "r2", State: journal.Succeeded}}}, "instant", 3, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := rollbackCost(tt.view)
			if tt.want == "" {
				if got != nil {
					t.Fatalf("rollback = %+v, want none", got)
				}
				return
			}
			if tt.want == "none" {
				if got == nil || got.Cost != "none" || !strings.Contains(got.Reason, tt.view.Runs[0].ID) {
					t.Fatalf("rollback = %+v, want nothing to roll back, naming the last run", got)
				}
				return
			}
			if got == nil || got.Cost != tt.want || got.Ready != tt.ready || got.Needed != tt.needed || got.Color != tt.view.Active.Other() {
				t.Fatalf("rollback = %+v, want %s (%d of %d ready)", got, tt.want, tt.ready, tt.needed)
			}
		})
	}
}
