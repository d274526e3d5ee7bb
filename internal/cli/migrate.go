//go:build !lean

package cli

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	bgaws "github.com/bluegreen/bluegreen/internal/aws"
	"github.com/bluegreen/bluegreen/internal/awscluster"
	"github.com/bluegreen/bluegreen/internal/check"
	"github.com/bluegreen/bluegreen/internal/engine"
	"github.com/bluegreen/bluegreen/internal/journal"
	"github.com/bluegreen/bluegreen/internal/kube"
	"github.com/bluegreen/bluegreen/internal/migrate"
	"github.com/bluegreen/bluegreen/internal/plan"
	"github.com/bluegreen/bluegreen/internal/run"
	"github.com/bluegreen/bluegreen/internal/runstore"
	"github.com/bluegreen/bluegreen/internal/standby"
)

// migrateFlags are the flags of the migrate verbs.
type migrateFlags struct {
	file          string
	steps         string
	pause         time.Duration
	parallelism   int
	forceDetach   bool
	noSnapshot    bool
	snapTimeout   time.Duration
	allowUngated  bool
	approveEach   bool
	awsProfile    string
	region        string
	skipPreflight bool
}

func (f *migrateFlags) bindSpec(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVarP(&f.file, "file", "f", "", "migration spec file (YAML or JSON), see docs/cluster-scope.md")
	fl.StringVar(&f.awsProfile, "aws-profile", "", "named profile of the AWS shared config (default: the standard credential chain: env, profile, SSO, IRSA, instance role)")
	fl.StringVar(&f.region, "region", "", "AWS region (default: the spec's region, then AWS_REGION or the profile's)")
}

func (f *migrateFlags) bindRun(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.steps, "steps", "", "weight schedule: green's percent after each shift, e.g. 50,100 (default: the spec's, then 10,30,50,70,90,100)")
	fl.DurationVar(&f.pause, "pause", -1, "wait after each shift before the checks, e.g. 2m; 0 judges at once (default: the spec's, then the longest record TTL)")
	fl.BoolVar(&f.approveEach, "approve-each-step", false, "stop before every shift after the first until `bluegreen migrate promote` approves it")
	fl.IntVar(&f.parallelism, "parallelism", 0, "StatefulSets handed off at once (default: the spec's, then 4)")
	fl.BoolVar(&f.forceDetach, "force-detach", false, "force-detach a volume still attached at the detach timeout (only when the writer is known to be stopped)")
	fl.BoolVar(&f.noSnapshot, "no-snapshot", false, "skip the snapshot of each volume before its hand-off (not recommended)")
	fl.BoolVar(&f.allowUngated, "allow-ungated", false, "shift with no gate at all when the spec has no checks and no target.loadBalancers (not recommended)")
	fl.DurationVar(&f.snapTimeout, "snapshot-timeout", 0, "wait at most this long for the snapshots to complete, e.g. 8h (default: the spec's handoff.snapshotTimeout, then 6h)")
}

// spec reads the spec file strictly and applies the flags over it.
func (f *migrateFlags) spec() (plan.Migration, error) {
	var m plan.Migration
	if f.file == "" {
		return m, usageErr("-f/--file is required: the migration spec (see docs/cluster-scope.md)")
	}
	if err := readSpecFile(f.file, "migration spec", "docs/cluster-scope.md", &m); err != nil {
		return m, err
	}
	var err error
	if f.steps != "" {
		if m.Steps, err = plan.ParseSteps(f.steps); err != nil {
			return m, err
		}
	}
	if f.pause != -1 { // set on the command line; a negative one fails validation
		p := plan.Duration(f.pause)
		m.Pause = &p
	}
	if f.approveEach {
		m.ApproveEachStep = true
	}
	if f.parallelism != 0 {
		m.Handoff.Parallelism = f.parallelism
	}
	if f.forceDetach {
		m.Handoff.ForceDetach = true
	}
	if f.allowUngated {
		m.AllowUngated = true
	}
	if f.snapTimeout != 0 {
		m.Handoff.SnapshotTimeout = plan.Duration(f.snapTimeout)
	}
	if f.noSnapshot {
		no := false
		m.Handoff.Snapshot = &no
	}
	if f.region != "" {
		m.Region = f.region
	}
	m.Defaults()
	return m, plan.ValidateMigration(m)
}

// migrateSession is one migrate command's view of both clusters, AWS and
// the journal.
type migrateSession struct {
	*session
	m        plan.Migration
	src, dst *kube.Clients
	aws      *awscluster.Clients
	env      migrate.Env
}

func (g *Global) migrateSession(ctx context.Context, f *migrateFlags) (*migrateSession, error) {
	defaults, err := check.DefaultsFromEnv(os.LookupEnv)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", plan.ErrInvalid, err)
	}
	m, err := f.spec()
	if err != nil {
		return nil, err
	}
	src, srcID, err := g.connectCluster(ctx, "source", m.Source, m.Handoff.Parallelism)
	if err != nil {
		return nil, err
	}
	dst, _, err := g.connectCluster(ctx, "target", m.Target, m.Handoff.Parallelism)
	if err != nil {
		return nil, err
	}
	region := m.Region
	if m.Source.Region != "" {
		region = m.Source.Region
	}
	ac, err := awscluster.Load(ctx, bgaws.Options{Region: region, Profile: f.awsProfile, Endpoint: g.AWSEndpoint, Gate: g.fence.Err, RequireCredentials: true})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", plan.ErrInvalid, err)
	}
	// The migration's runs live in cluster A, next to its Lease, keyed by
	// A's identity; every write is copied to B, where they stay readable
	// if A is gone.
	ns := run.MigrationKey(m.Name).Namespace
	st := runstore.NewMirrored(
		runstore.New(src.Records, ns, srcID).AutoInstall(g.clock, src.Records),
		runstore.New(dst.Records, ns, srcID).AutoInstall(g.clock, dst.Records), g.log)
	s := &migrateSession{session: &session{g: g, clients: src, store: st, checkDefaults: defaults}, m: m, src: src, dst: dst, aws: ac}
	if s.env, err = s.buildEnv(); err != nil {
		return nil, err
	}
	return s, nil
}

// connectCluster connects to one cluster of a migration and reads its
// identity.
func (g *Global) connectCluster(ctx context.Context, role string, ref plan.ClusterRef, parallelism int) (*kube.Clients, string, error) {
	kc := ref.Kubeconfig
	if kc == "" {
		kc = g.Kubeconfig
	}
	qps := migrate.ClientQPS(parallelism)
	c, err := kube.Connect(kube.ClientOptions{Kubeconfig: kc, Context: ref.Context, Namespace: "default", QPS: qps, Burst: 2 * int(qps), Fence: g.fence})
	if err != nil {
		return nil, "", fmt.Errorf("%w: %s cluster: %w (fix %s.context in the spec)", plan.ErrInvalid, role, err, role)
	}
	id, err := c.Identify(ctx)
	if err != nil {
		return nil, "", fmt.Errorf("%s cluster %s: %w", role, ref.Context, err)
	}
	return c, id, nil
}

func (s *migrateSession) buildEnv() (migrate.Env, error) {
	srcObj, err := standby.NewCluster(s.src.Config)
	if err != nil {
		return migrate.Env{}, err
	}
	dstObj, err := standby.NewCluster(s.dst.Config)
	if err != nil {
		return migrate.Env{}, err
	}
	router, records, err := s.router()
	if err != nil {
		return migrate.Env{}, err
	}
	var checks []check.Check
	for i, cs := range s.m.Checks {
		c, err := check.Build(cs, s.checkDefaults, check.WithLogger(s.g.log), check.WithSecrets(run.Secrets(nil, s.g.notifyURLs()...)))
		if err != nil {
			return migrate.Env{}, fmt.Errorf("%w: checks[%d]: %w", plan.ErrInvalid, i, err)
		}
		checks = append(checks, c)
	}
	return migrate.Env{
		Source: s.src.Kube, Target: s.dst.Kube, SourceObjects: srcObj, TargetObjects: dstObj,
		SourceName: s.src.Context, TargetName: s.dst.Context, AWS: s.aws,
		Router: router, Records: records, Checks: checks, TargetLoadBalancers: s.m.Target.LoadBalancers, Log: s.g.log, Clock: s.g.clock,
	}, nil
}

func (s *migrateSession) lastMigration(ctx context.Context) (*journal.Run, error) {
	last, err := run.Last(ctx, s.store, s.g.log, run.MigrationKey(s.m.Name).Filter(s.src.Context))
	if err != nil {
		return nil, err
	}
	if last == nil {
		return nil, fmt.Errorf("%w: no run of migration %s in cluster A (context %s, namespace %s); check the spec's name and source.context",
			plan.ErrInvalid, s.m.Name, s.src.Context, run.MigrationKey(s.m.Name).Namespace)
	}
	return last, nil
}

// executeMigration runs fn with the migration's Lease held in cluster A
// and an engine over every cluster-scope action; see run.Runner.Execute.
func (s *migrateSession) executeMigration(ctx context.Context, r *journal.Run, fn func(context.Context, *engine.Engine) error) error {
	return s.g.runner(ctx, s.store, s.src.Lease, s.src.Kube, r).Execute(ctx, r, migrate.Actions(s.env), s.m.Handoff.Parallelism, fn)
}
