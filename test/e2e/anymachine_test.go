package e2e

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bluegreen/bluegreen/internal/journal"
)

var journalFilterShop = journal.Filter{App: "shop"}

// machine is a user on a machine of their own: an empty home folder, no
// journal, only the kubeconfig.
type machine struct {
	e          *env
	user       string
	home       string
	kubeconfig string
}

func (e *env) machine(user string) machine {
	return machine{e: e, user: user, home: e.t.TempDir(), kubeconfig: cluster.Kubeconfig}
}

func (m machine) cli(args ...string) result {
	m.e.t.Helper()
	return m.cliWith(nil, args...)
}

// cliWith is cli with more environment variables.
func (m machine) cliWith(env []string, args ...string) result {
	m.e.t.Helper()
	full := append([]string{"--kubeconfig", m.kubeconfig, "-n", m.e.ns}, args...)
	cmd := exec.Command(cliBin, full...)
	cmd.Env = append(append(os.Environ(), "HOME="+m.home, "USER="+m.user, "XDG_STATE_HOME=", "BLUEGREEN_JOURNAL="), env...)
	cmd.Dir = m.home
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	code := 0
	if err := cmd.Run(); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			m.e.t.Fatalf("run bluegreen: %v", err)
		}
		code = ee.ExitCode()
	}
	return result{out.String(), errb.String(), code}
}

func (m machine) must(args ...string) result {
	m.e.t.Helper()
	r := m.cli(args...)
	if r.code != 0 {
		m.e.t.Fatalf("%s: bluegreen %s: %s", m.user, strings.Join(args, " "), r)
	}
	return r
}

// One person deploys with --pause; a teammate on another machine, with an
// empty home folder, promotes; a third, on a third machine, reads the
// status and rolls back. The run's record in the cluster names each.
func TestAnyMachineContinuesARun(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.givenBlueGreenApp("shop", v1, 2)
	ana, ben, cem := e.machine("ana"), e.machine("ben"), e.machine("cem")

	ana.must("deploy", "shop", "--image", v2, "--pause")
	ben.must("promote", "shop")
	if s := e.state("shop"); s.ActiveSelects != "green" || s.GreenImage != v2 {
		t.Fatalf("after ben's promote: %+v", s)
	}
	var st struct {
		Runs []struct {
			State   string `json:"state"`
			History []struct {
				Actor, Verb string
			} `json:"history"`
		} `json:"runs"`
	}
	if err := json.Unmarshal([]byte(cem.must("status", "shop", "-o", "json").stdout), &st); err != nil || len(st.Runs) != 1 {
		t.Fatalf("cem's status: %v %+v", err, st)
	}
	cem.must("rollback", "shop")
	if s := e.state("shop"); s.ActiveSelects != "blue" {
		t.Fatalf("after cem's rollback: %+v", s)
	}

	runs, err := e.runs().List(t.Context(), journalFilterShop)
	if err != nil || len(runs) != 1 {
		t.Fatalf("records: %v, %d runs", err, len(runs))
	}
	var who []string
	for _, a := range runs[0].History {
		who = append(who, a.Verb+" by "+strings.SplitN(a.Actor, "@", 2)[0])
	}
	if got := strings.Join(who, ", "); got != "deploy by ana, promote by ben, rollback by cem" {
		t.Fatalf("the record's history is %q, want each actor named", got)
	}
	if st.Runs[0].State != "succeeded" || len(st.Runs[0].History) != 2 {
		t.Fatalf("cem's status saw %+v, want the promoted run with its two actors", st.Runs[0])
	}
	for _, m := range []machine{ana, ben, cem} {
		if found, _ := filepath.Glob(filepath.Join(m.home, ".local", "state", "bluegreen", "journal.db")); len(found) > 0 {
			t.Errorf("%s's machine has a local journal", m.user)
		}
	}
}
