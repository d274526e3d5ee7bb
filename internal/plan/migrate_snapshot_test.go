package plan

import (
	"testing"
	"time"
)

// The snapshot step waits as long as handoff.snapshotTimeout allows (6h
// unless set), not the readyTimeout meant for pods: a first snapshot of a
// large volume takes hours. The other hand-off steps keep readyTimeout.
func TestSnapshotStepHasItsOwnTimeout(t *testing.T) {
	tests := []struct {
		name string
		set  time.Duration
		want time.Duration
	}{
		{"default", 0, 6 * time.Hour},
		{"from the spec", 90 * time.Minute, 90 * time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := validMigration()
			m.Handoff.SnapshotTimeout = Duration(tt.set)
			m.Defaults()
			steps, err := MigrationPlan(observedDB(), m)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range steps {
				var p HandoffParams
				if s.Lane == "" || s.Kind == KindRepointCNAME {
					continue
				}
				if err := s.DecodeParams(&p); err != nil {
					t.Fatal(err)
				}
				want := m.Handoff.ReadyTimeout
				switch s.Kind {
				case KindSnapshot:
					want = Duration(tt.want)
				case KindWaitDetached:
					want = m.Handoff.DetachTimeout
				}
				if p.Timeout != want {
					t.Fatalf("step %s timeout %s, want %s", s.Name, p.Timeout, want)
				}
			}
		})
	}
}
