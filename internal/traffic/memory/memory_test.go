// Package memory_test is the proof that a router is one package plus its
// registration: a router that keeps each record's split in memory,
// registered under "memory", planned and shifted by the cluster scope's own
// code, with no edit outside this package.
package memory_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/bluegreen/bluegreen/internal/awscluster"
	"github.com/bluegreen/bluegreen/internal/clock"
	"github.com/bluegreen/bluegreen/internal/engine"
	"github.com/bluegreen/bluegreen/internal/journal"
	"github.com/bluegreen/bluegreen/internal/migrate"
	"github.com/bluegreen/bluegreen/internal/plan"
	"github.com/bluegreen/bluegreen/internal/spec"
	"github.com/bluegreen/bluegreen/internal/traffic"
)

// The router: a split per record name.
type router struct {
	mu     sync.Mutex
	splits map[string]traffic.Split
}

var mem = &router{splits: map[string]traffic.Split{}}

func (r *router) Observe(_ context.Context, t traffic.Target) (traffic.Split, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	s, ok := r.splits[t.Name]
	if !ok {
		return nil, fmt.Errorf("record %s has no split yet", t.Name)
	}
	return s, nil
}

func (r *router) Shift(_ context.Context, t traffic.Target, s traffic.Split) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.splits[t.Name] = s
	return nil
}

// Its "dns" section: record names and one label per color.
type section struct {
	Router  string `json:"router"`
	Records []struct {
		Name  string `json:"name"`
		Blue  string `json:"blue"`
		Green string `json:"green"`
	} `json:"records"`
}

func records(raw []byte) ([]traffic.Target, error) {
	var s section
	if err := spec.DecodeStrict("dns", raw, &s); err != nil {
		return nil, err
	}
	var out []traffic.Target
	for i, r := range s.Records {
		if r.Name == "" {
			return nil, fmt.Errorf("dns.records[%d].name is required", i)
		}
		out = append(out, traffic.Target{Name: r.Name, Carriers: map[string]string{"blue": r.Blue, "green": r.Green}})
	}
	return out, nil
}

// The registration: all a router needs to be chosen by a spec.
func init() {
	traffic.Register(traffic.Plugin{
		Name:    "memory",
		New:     func(traffic.Deps) (traffic.Router, error) { return mem, nil },
		Records: records,
	})
}

func TestARouterIsOnePackagePlusRegistration(t *testing.T) {
	// Given a migration spec whose dns section names the router
	var m plan.Migration
	err := json.Unmarshal([]byte(`{"apiVersion": "bluegreen.dev/v1alpha1", "kind": "Migration", "name": "shop",
		"source": {"context": "a"}, "target": {"context": "b"}, "allowUngated": true, "steps": [50, 100], "pause": "0s",
		"dns": {"router": "memory", "records": [{"name": "shop.example.com", "blue": "old", "green": "new"}]}}`), &m)
	if err != nil {
		t.Fatal(err)
	}
	m.Defaults()

	// When it is planned
	steps, err := plan.MigrationPlan(plan.MigrationObserved{}, m)
	if err != nil {
		t.Fatalf("plan: %v", err)
	}

	// Then each shift says what it writes through the router's carriers
	var shifts []journal.Step
	for _, s := range steps {
		if s.Kind == plan.KindShift {
			shifts = append(shifts, s)
		}
	}
	if len(shifts) != 2 || len(shifts[0].Mutations) != 1 || !strings.Contains(shifts[0].Mutations[0].Change, "old 100 → 50, new 0 → 50") {
		t.Fatalf("shift steps = %+v, want two, the first writing old 100 → 50, new 0 → 50", shifts)
	}

	// And the cluster scope's shift action moves the split through it
	targets, err := m.DNS.Targets()
	if err != nil {
		t.Fatal(err)
	}
	r, err := traffic.New(m.DNS.Router, traffic.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Shift(t.Context(), targets[0], traffic.All("blue", "green")); err != nil {
		t.Fatal(err)
	}
	shift := migrate.Actions(migrate.Env{AWS: &awscluster.Clients{}, Router: r, Records: targets, Clock: clock.Real{}, Log: slog.New(slog.DiscardHandler)})[plan.KindShift]
	run := &journal.Run{ID: "run"}
	for i := range shifts {
		if _, err := shift.Do(t.Context(), engine.Exec{Run: run, Step: &shifts[i]}); err != nil {
			t.Fatalf("%s: %v", shifts[i].Name, err)
		}
	}
	if got, _ := r.Observe(t.Context(), targets[0]); got["green"] != 100 {
		t.Fatalf("after the shifts the split is %s, want green=100", got)
	}

	// And its undo sends everything back
	if err := shift.Undo(t.Context(), engine.Exec{Run: run, Step: &shifts[1]}); err != nil {
		t.Fatal(err)
	}
	if got, _ := r.Observe(t.Context(), targets[0]); got["blue"] != 100 {
		t.Fatalf("after the undo the split is %s, want blue=100", got)
	}
}
