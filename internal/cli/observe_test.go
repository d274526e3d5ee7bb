package cli

import (
	"testing"
	"time"
)

// A waiting step's progress becomes a line when what it waits for changes,
// and again every progressEvery when nothing does; the time left alone
// changing is no news.
func TestProgressLines(t *testing.T) {
	t0 := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	var p progressLines
	for _, tc := range []struct {
		step, note string
		at         time.Duration
		want       bool
	}{
		{"wait-rollout", "0/3 pods ready, 3 updated; 5m0s left", 0, true},
		{"wait-rollout", "0/3 pods ready, 3 updated; 4m59s left", time.Second, false},
		{"wait-rollout", "1/3 pods ready, 3 updated; 4m58s left", 2 * time.Second, true},
		{"wait-rollout/other", "0/2 pods ready, 2 updated; 5m0s left", 2 * time.Second, true},
		{"wait-rollout", "1/3 pods ready, 3 updated; 4m40s left", 11 * time.Second, false},
		{"wait-rollout", "1/3 pods ready, 3 updated; 4m45s left", 12*time.Second + time.Millisecond, true},
	} {
		if got := p.due(tc.step, tc.note, t0.Add(tc.at)); got != tc.want {
			t.Errorf("at +%s %s %q: due = %v, want %v", tc.at, tc.step, tc.note, got, tc.want)
		}
	}
}
