package plan

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/bluegreen/bluegreen/internal/journal"
	"github.com/bluegreen/bluegreen/internal/spec"
	"github.com/bluegreen/bluegreen/internal/traffic"
)

// DefaultSnapshotTimeout bounds the wait for a hand-off's snapshots when
// the spec names no handoff.snapshotTimeout. EBS copies every block of a
// volume's first snapshot: hours for a large one.
const DefaultSnapshotTimeout = 6 * time.Hour

// DefaultSteps is the weight schedule when the spec names none: green's
// percent after each shift.
var DefaultSteps = []int{10, 30, 50, 70, 90, 100}

var (
	k8sName = regexp.MustCompile(`^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$`)
)

// Defaults fills what the spec left empty.
func (m *Migration) Defaults() {
	if m.DNS.Router == "" {
		m.DNS.Router = traffic.ClusterDefault()
	}
	if len(m.Steps) == 0 {
		m.Steps = append([]int(nil), DefaultSteps...)
	}
	if targets, err := m.DNS.Targets(); m.Pause == nil && err == nil {
		p := DefaultPause(targets) // a section that does not parse fails validation
		m.Pause = &p
	}
	h := &m.Handoff
	if h.Snapshot == nil {
		h.Snapshot = ptr(true)
	}
	if h.TagForCSI == nil {
		h.TagForCSI = ptr(true)
	}
	if h.Parallelism == 0 {
		h.Parallelism = 4
	}
	if h.DetachTimeout == 0 {
		h.DetachTimeout = Duration(10 * time.Minute)
	}
	if h.ReadyTimeout == 0 {
		h.ReadyTimeout = Duration(10 * time.Minute)
	}
	if h.SnapshotTimeout == 0 {
		h.SnapshotTimeout = Duration(DefaultSnapshotTimeout)
	}
	for i := range m.StatefulSets {
		if c := m.StatefulSets[i].CNAME; c != nil && c.TTL == 0 {
			c.TTL = 60
		}
	}
}

func ptr[T any](v T) *T { return &v }

// DefaultPause is the wait after each shift when the spec names none: the
// longest settle time among the targets (a record's TTL, 60 s for an alias
// to a load balancer), so that at least one TTL passes before the checks
// judge the new weights.
func DefaultPause(targets []traffic.Target) Duration {
	longest := time.Duration(0)
	for _, t := range targets {
		longest = max(longest, t.Settle)
	}
	return Duration(longest)
}

// PauseAfterShift is the spec's pause, defaulted.
func (m Migration) PauseAfterShift() Duration {
	if m.Pause == nil {
		targets, _ := m.DNS.Targets() // validated before planning
		return DefaultPause(targets)
	}
	return *m.Pause
}

// ValidateMigration checks a defaulted spec on its own, before anything is
// read from the clusters.
func ValidateMigration(m Migration) error {
	if m.APIVersion != MigrationAPIVersion || m.Kind != MigrationKind {
		return invalid("apiVersion/kind %s/%s: want apiVersion: %s and kind: %s", m.APIVersion, m.Kind, MigrationAPIVersion, MigrationKind)
	}
	if !k8sName.MatchString(m.Name) || len(m.Name) > 50 {
		return invalid("name %q: want a short lower-case name such as \"shop-1-33\" (it names the lock and the journal)", m.Name)
	}
	if m.Source.Context == "" || m.Target.Context == "" {
		return invalid("source.context and target.context are required: the kubeconfig contexts of cluster A and cluster B")
	}
	if m.Source.Context == m.Target.Context && m.Source.Kubeconfig == m.Target.Kubeconfig {
		return invalid("source and target are the same cluster (%s): a migration needs two clusters", m.Source.Context)
	}
	if err := validateSteps(m.Steps); err != nil {
		return err
	}
	if err := validateDNS(m.DNS); err != nil {
		return err
	}
	seen := map[string]bool{}
	for i, s := range m.StatefulSets {
		key := s.Namespace + "/" + s.Name
		if !k8sName.MatchString(s.Namespace) || !k8sName.MatchString(s.Name) {
			return invalid("statefulSets[%d] %q: namespace and name are required lower-case names", i, key)
		}
		if seen[key] {
			return invalid("statefulSets[%d] %s is listed twice", i, key)
		}
		seen[key] = true
		if c := s.CNAME; c != nil {
			if c.ZoneID == "" || !spec.IsDNSName(c.Name) || c.Blue == "" || c.Green == "" {
				return invalid("statefulSets[%d] %s cname: zoneID, name, blue and green are required (blue is A's value, green is B's)", i, key)
			}
		}
	}
	if p := m.PauseAfterShift(); p < 0 {
		return invalid("pause %s: want 0 or a positive duration such as 2m (the wait after each shift before the checks)", p)
	}
	for name, d := range map[string]Duration{"detachTimeout": m.Handoff.DetachTimeout, "readyTimeout": m.Handoff.ReadyTimeout, "snapshotTimeout": m.Handoff.SnapshotTimeout} {
		if d < 0 {
			return invalid("handoff.%s %s: want a positive duration such as 10m", name, d)
		}
	}
	if m.Handoff.Parallelism < 1 || m.Handoff.Parallelism > 64 {
		return invalid("handoff.parallelism %d: want 1 to 64", m.Handoff.Parallelism)
	}
	for i, c := range m.Checks {
		if err := c.Validate(); err != nil {
			return invalid("checks[%d]: %v", i, err)
		}
	}
	return nil
}

func validateSteps(steps []int) error {
	prev := 0
	for i, s := range steps {
		if s <= prev || s > 100 {
			return invalid("steps[%d] = %d: the schedule must rise strictly from above 0 to 100, e.g. --steps 10,50,100", i, s)
		}
		prev = s
	}
	if prev != 100 {
		return invalid("steps %v: the schedule must end at 100 (all traffic on the target cluster)", steps)
	}
	return nil
}

func validateDNS(d DNS) error {
	if _, err := d.Targets(); err != nil {
		return invalid("%v", err)
	}
	return nil
}

// ParseSteps reads a --steps list such as "50,100".
func ParseSteps(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		var n int
		if _, err := fmt.Sscanf(strings.TrimSpace(f), "%d", &n); err != nil {
			return nil, invalid("--steps %q: want comma-separated percentages such as 50,100", s)
		}
		out = append(out, n)
	}
	return out, validateSteps(out)
}

// MigrationPlan compiles a validated, defaulted migration and what the
// clusters hold into the runbook's steps: warm standby, one lane per
// StatefulSet hand-off (lanes run side by side), the weight schedule, and
// the verification checklist.
func MigrationPlan(obs MigrationObserved, m Migration) ([]journal.Step, error) {
	if err := ValidateMigration(m); err != nil {
		return nil, err
	}
	targets, err := m.DNS.Targets()
	if err != nil {
		return nil, invalid("%v", err)
	}
	if len(m.Checks) == 0 && len(m.Target.LoadBalancers) == 0 && !m.AllowUngated {
		return nil, invalid("nothing gates the shifts: with no checks and no target.loadBalancers, traffic would go to %s step by step on the pause alone; "+
			"name B's load balancers in target.loadBalancers (each shift then waits until their target groups are healthy), add checks, "+
			"or set allowUngated: true (--allow-ungated) to shift ungated", m.Target.Context)
	}
	var steps []journal.Step
	if len(m.Workloads.Namespaces) > 0 {
		steps = append(steps,
			step("standby-copy", KindStandby, fmt.Sprintf("Copy %d stateless objects to %s as a warm standby", len(obs.Standby), m.Target.Context),
				StandbyParams{Workloads: m.Workloads}, standbyMuts(obs.Standby, m.Target.Context)...),
			step("standby-ready", KindStandbyReady, fmt.Sprintf("Wait until every standby Deployment has rolled out in %s", m.Target.Context),
				StandbyParams{Workloads: m.Workloads, Timeout: m.Handoff.ReadyTimeout}))
	}
	byName := map[string]StatefulSetObserved{}
	for _, s := range obs.StatefulSets {
		byName[s.Namespace+"/"+s.Name] = s
	}
	for _, ref := range m.StatefulSets {
		o, ok := byName[ref.Namespace+"/"+ref.Name]
		if !ok {
			return nil, invalid("statefulset %s/%s not found in %s: check statefulSets in the spec", ref.Namespace, ref.Name, m.Source.Context)
		}
		lane, err := handoffSteps(obs, m, ref, o)
		if err != nil {
			return nil, err
		}
		steps = append(steps, lane...)
	}
	prev := 0
	for _, g := range m.Steps {
		muts := make([]journal.Mutation, 0, len(targets))
		for _, t := range targets {
			muts = append(muts, mut("record/"+t.Name, "weights %s %d → %d, %s %d → %d",
				t.Carriers[string(Blue)], 100-prev, 100-g, t.Carriers[string(Green)], prev, g))
		}
		if m.ApproveEachStep && prev > 0 {
			steps = append(steps, step(fmt.Sprintf("approve-%d", g), KindApproveShift,
				fmt.Sprintf("Hold %d%% of traffic on %s until `bluegreen migrate promote` approves going to %d%%", prev, m.Target.Context, g),
				ApproveShiftParams{Green: g}))
		}
		gate := shiftGate(m)
		pause := m.PauseAfterShift()
		steps = append(steps, step(fmt.Sprintf("shift-%d", g), KindShift,
			fmt.Sprintf("Send %d%% of traffic to %s, wait %s, %s", g, m.Target.Context, pause, gate),
			ShiftParams{Green: g, Previous: prev, Pause: pause}, muts...))
		prev = g
	}
	steps = append(steps, step("verify", KindVerifyChecklist, "Check every item of the runbook's verification checklist", nil))
	return steps, nil
}

// shiftGate says what gates each shift: the built-in target-health check
// of B's load balancers, then the spec's checks.
func shiftGate(m Migration) string {
	var gates []string
	if n := len(m.Target.LoadBalancers); n > 0 {
		gates = append(gates, fmt.Sprintf("check the target health of %s", strings.Join(m.Target.LoadBalancers, ", ")))
	}
	if n := len(m.Checks); n > 0 {
		gates = append(gates, fmt.Sprintf("run %d %s", n, plural(n, "check", "checks")))
	}
	if len(gates) == 0 {
		return "ungated (allowUngated)"
	}
	return strings.Join(gates, ", ")
}

func standbyMuts(objs []string, target string) []journal.Mutation {
	out := make([]journal.Mutation, 0, len(objs))
	for _, o := range objs {
		out = append(out, mut(o, "server-side apply into %s", target))
	}
	return out
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
