package run

import (
	"errors"
	"strings"
	"testing"

	"github.com/bluegreen/bluegreen/internal/journal"
	"github.com/bluegreen/bluegreen/internal/plan"
)

// Each verb is refused, with what to do instead, on a run that cannot take
// it; the CLI and a controller share these rules.
func TestCheckRefusesWhatARunCannotTake(t *testing.T) {
	cmds := func(v Verb) string { return "tool " + string(v) }
	svc := func(st journal.RunState, switched bool) *journal.Run {
		sw := journal.Pending
		if switched {
			sw = journal.Done
		}
		return &journal.Run{ID: "r1", Scope: journal.ScopeService, App: "shop", State: st,
			Steps: []journal.Step{{Name: "switch", State: sw}}}
	}
	mig := func(st journal.RunState, gate bool) *journal.Run {
		s := journal.StepState(journal.Pending)
		if gate {
			s = journal.Started
		}
		return &journal.Run{ID: "m1", Scope: journal.ScopeCluster, App: "shop-133", State: st, Reason: "weights drifted",
			Steps: []journal.Step{{Name: "approve-50", Kind: plan.KindApproveShift, State: s}}}
	}
	tests := []struct {
		name string
		verb Verb
		run  *journal.Run
		want string // "" = allowed
	}{
		{"promote a paused release", Promote, svc(journal.Paused, false), ""},
		{"promote a running release", Promote, svc(journal.Running, false), "is running, not paused: nothing to promote"},
		{"promote a migration at its gate", Promote, mig(journal.Paused, true), ""},
		{"promote a migration paused by drift", Promote, mig(journal.Paused, false), "not at an approval gate (weights drifted)"},
		{"resume an interrupted run", Resume, svc(journal.Running, false), ""},
		{"resume a finished run", Resume, svc(journal.Succeeded, true), "nothing to resume"},
		{"roll back a finished release", Rollback, svc(journal.Succeeded, true), ""},
		{"roll back twice", Rollback, svc(journal.RolledBack, true), "nothing to roll back"},
		{"abort before the switch", Abort, svc(journal.Paused, false), ""},
		{"abort after the switch", Abort, svc(journal.Running, true), "already switched production: use `tool rollback` instead"},
		{"abort a finished migration", Abort, mig(journal.Succeeded, false), "nothing to abort (a finished release goes back with `tool rollback`)"},
		{"not a verb", Status, svc(journal.Paused, false), "not a verb"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Check(tt.verb, tt.run, cmds)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Check = %v, want allowed", err)
				}
				if tt.verb == Promote && !tt.run.Approved {
					t.Fatal("promote did not record the approval")
				}
				return
			}
			if !errors.Is(err, plan.ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Check = %v, want invalid input naming %q", err, tt.want)
			}
			if tt.run.Approved {
				t.Fatal("a refused verb approved the run")
			}
		})
	}
}

func TestKeysNameOneLeasePerRelease(t *testing.T) {
	if k := KeyOf(&journal.Run{Scope: journal.ScopeService, Namespace: "prod", App: "shop"}); k != ServiceKey("prod", "shop") || k.LeaseName() != "bluegreen-shop" {
		t.Fatalf("service key %+v, lease %s", k, k.LeaseName())
	}
	if k := KeyOf(&journal.Run{Scope: journal.ScopeCluster, App: "shop-133"}); k != MigrationKey("shop-133") || k.LeaseName() != "bluegreen-migrate-shop-133" || k.Namespace != "default" {
		t.Fatalf("cluster key %+v, lease %s", k, k.LeaseName())
	}
}
