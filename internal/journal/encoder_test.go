package journal

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

func TestEncoderMatchesMarshal(t *testing.T) {
	at := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	newRun := func(n int) *Run {
		r := &Run{ID: "r1", Scope: "cluster", Operation: "migrate", Namespace: "shop", App: "m",
			// A spec with a "steps" key of its own, and a reason that
			// quotes the marker, must not confuse the splice.
			Spec: json.RawMessage(`{"steps":null,"pause":"1s"}`), Reason: `saw "steps":null`, State: Running, CreatedAt: at}
		for i := range n {
			r.Steps = append(r.Steps, Step{Name: fmt.Sprintf("s%d", i), Kind: "k", State: Pending, Lane: "l",
				Params: json.RawMessage(fmt.Sprintf(`{"i": %d}`, i))})
		}
		return r
	}
	tests := []struct {
		name  string
		steps int
	}{{"no steps", 0}, {"one step", 1}, {"many steps", 40}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRun(tt.steps)
			if tt.steps == 0 {
				r.Steps = []Step{} // encodes as [], not null
			}
			var c Encoder
			rng := rand.New(rand.NewPCG(1, 2))
			for round := range 60 {
				if tt.steps > 0 {
					i := rng.IntN(tt.steps)
					s := &r.Steps[i]
					s.State, s.Attempts, s.StartedAt = Done, round, at.Add(time.Duration(round)*time.Second)
					s.Output = json.RawMessage(fmt.Sprintf(`{"round":%d}`, round))
					c.Changed(r, s)
				}
				r.State, r.UpdatedAt = RunState(fmt.Sprintf("state-%d", round)), at.Add(time.Duration(round)*time.Minute)
				got, err := c.Encode(r)
				if err != nil {
					t.Fatal(err)
				}
				want, _ := json.Marshal(r)
				if !bytes.Equal(got, want) {
					t.Fatalf("round %d: Encode differs from json.Marshal:\n got %s\nwant %s", round, got, want)
				}
			}
		})
	}
}

// A change not marked is not encoded: the cache is what makes Encode cheap,
// so the engine must mark every step it changes. A replaced step slice or
// another run drops the cache.
func TestEncoderCache(t *testing.T) {
	r := &Run{ID: "r1", Steps: []Step{{Name: "a", State: Pending}, {Name: "b", State: Pending}}}
	var c Encoder
	if _, err := c.Encode(r); err != nil {
		t.Fatal(err)
	}
	r.Steps[1].State = Done
	got, _ := c.Encode(r)
	if want, _ := json.Marshal(r); bytes.Equal(got, want) {
		t.Fatal("an unmarked change was encoded: the cache is not used")
	}
	c.Changed(r, &r.Steps[1])
	got, _ = c.Encode(r)
	if want, _ := json.Marshal(r); !bytes.Equal(got, want) {
		t.Fatalf("marked change not encoded:\n got %s\nwant %s", got, want)
	}

	r.Steps = append([]Step(nil), r.Steps...) // a new slice
	r.Steps[0].State = Done
	got, _ = c.Encode(r)
	if want, _ := json.Marshal(r); !bytes.Equal(got, want) {
		t.Fatalf("new step slice: cache not dropped:\n got %s\nwant %s", got, want)
	}
	other := &Run{ID: "r2", Steps: []Step{{Name: "a", State: Errored}, {Name: "b", State: Done}}}
	c.Changed(other, &other.Steps[0])
	got, _ = c.Encode(other)
	if want, _ := json.Marshal(other); !bytes.Equal(got, want) {
		t.Fatalf("other run: cache not dropped:\n got %s\nwant %s", got, want)
	}
}
