package engine

import (
	"context"
	"errors"
	"testing"

	"github.com/bluegreen/bluegreen/internal/journal"
)

// A server dry run sends every step that can be sent, in order, past a
// refusal; skips settled steps and steps with nothing to send; and changes
// no step of the run.
func TestDryRunSendsEveryWriteAndRecordsNothing(t *testing.T) {
	refused := errors.New(`deployments.apps "shop-green" is forbidden: ValidatingAdmissionPolicy denied`)
	var sent []string
	send := func(_ context.Context, x Exec) error {
		sent = append(sent, x.Step.Name)
		if x.Step.Name == "b" {
			return refused
		}
		return nil
	}
	acts := map[string]Action{
		"set":  {DryRun: send},
		"wait": {Do: func(context.Context, Exec) (any, error) { return nil, nil }},
		"scale": {DryRun: send, Settled: func(_ context.Context, x Exec) (string, bool, error) {
			return "shop-green has 3 replicas already", x.Step.Name == "d", nil
		}},
	}
	r := newRun("a", "b")
	r.Steps = append(r.Steps,
		journal.Step{Name: "w", Kind: "wait", State: journal.Pending},
		journal.Step{Name: "c", Kind: "scale", State: journal.Pending},
		journal.Step{Name: "d", Kind: "scale", State: journal.Pending},
		journal.Step{Name: "u", Kind: "unknown", State: journal.Pending})

	got := DryRun(t.Context(), acts, r)

	want := []struct {
		step     string
		sent     bool
		refused  bool
		notedWhy bool
	}{
		{"a", true, false, false},
		{"b", true, true, false},
		{"w", false, false, true},
		{"c", true, false, false},
		{"d", false, false, true},
		{"u", false, false, true},
	}
	if len(got) != len(want) {
		t.Fatalf("%d results, want %d: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		g := got[i]
		if g.Step != w.step || g.Sent != w.sent || errors.Is(g.Err, refused) != w.refused || (g.Note != "") != w.notedWhy {
			t.Errorf("step %d: %+v; want step %s sent=%v refused=%v note=%v", i, g, w.step, w.sent, w.refused, w.notedWhy)
		}
	}
	if len(sent) != 3 || sent[0] != "a" || sent[1] != "b" || sent[2] != "c" {
		t.Errorf("sent %v, want a, b, c in order", sent)
	}
	for _, st := range r.Steps {
		if st.State != journal.Pending || st.Before != nil || st.Output != nil {
			t.Errorf("step %s changed by a dry run: %+v", st.Name, st)
		}
	}
}
