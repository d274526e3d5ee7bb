package plan

import (
	"errors"
	"slices"
	"testing"
	"time"
)

// With no pause in the spec every shift waits at least one TTL of the
// records it moved, so the checks judge the new weights, not the cached
// old ones. An explicit pause, 0 included, is kept.
func TestMigrationPauseDefaultsToTheLongestTTL(t *testing.T) {
	zero, five := Duration(0), Duration(5*time.Minute)
	tests := []struct {
		name    string
		edit    func(*Migration)
		want    Duration
		wantErr bool
	}{
		{"default record TTL", func(*Migration) {}, Duration(60 * time.Second), false},
		{"longest of two records", func(m *Migration) {
			editDNS(m, func(s map[string]any, recs []any) {
				s["records"] = append(recs, map[string]any{"name": "api.example.com", "ttl": 300,
					"blue": field(recs[0], "blue"), "green": field(recs[0], "green")})
			})
		}, Duration(300 * time.Second), false},
		{"alias counts as 60s", func(m *Migration) {
			editDNS(m, func(_ map[string]any, recs []any) {
				r := field(recs[0])
				r["blue"] = map[string]any{"setIdentifier": "a", "alias": "a-lb.example.com", "aliasZone": "Z35SXDOTRQ7X7K"}
				r["green"] = map[string]any{"setIdentifier": "b", "alias": "b-lb.example.com", "aliasZone": "Z35SXDOTRQ7X7K"}
			})
		}, Duration(60 * time.Second), false},
		{"explicit zero kept", func(m *Migration) { m.Pause = &zero }, 0, false},
		{"explicit pause kept", func(m *Migration) { m.Pause = &five }, five, false},
		{"negative refused", func(m *Migration) { neg := Duration(-time.Second); m.Pause = &neg }, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := validMigration()
			m.Pause = nil
			tt.edit(&m)
			m.Defaults()
			steps, err := MigrationPlan(observedDB(), m)
			if tt.wantErr {
				if !errors.Is(err, ErrInvalid) {
					t.Fatalf("err = %v, want ErrInvalid", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			shifts := 0
			for _, s := range steps {
				if s.Kind != KindShift {
					continue
				}
				shifts++
				var p ShiftParams
				if err := s.DecodeParams(&p); err != nil {
					t.Fatal(err)
				}
				if p.Pause != tt.want {
					t.Fatalf("step %s pauses %s, want %s", s.Name, p.Pause, tt.want)
				}
			}
			if shifts == 0 {
				t.Fatal("no shift planned")
			}
		})
	}
}

// approveEachStep puts one gate before every shift but the first, so a
// person approves each further weight after watching the last one.
func TestMigrationApproveEachStepGatesBetweenShifts(t *testing.T) {
	for _, approve := range []bool{false, true} {
		m := validMigration()
		m.Steps, m.ApproveEachStep = []int{10, 50, 100}, approve
		steps, err := MigrationPlan(observedDB(), m)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, s := range steps {
			if s.Kind == KindShift || s.Kind == KindApproveShift {
				got = append(got, s.Name)
			}
		}
		want := []string{"shift-10", "shift-50", "shift-100"}
		if approve {
			want = []string{"shift-10", "approve-50", "shift-50", "approve-100", "shift-100"}
		}
		if !slices.Equal(got, want) {
			t.Fatalf("approveEachStep=%v: steps %v, want %v", approve, got, want)
		}
	}
}
