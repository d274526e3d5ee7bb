// Command migration-demo runs a full cluster-scope migration on this
// machine: it starts two local clusters (A = blue, B = green) that look
// like EKS clusters in one VPC, the project's AWS wire fake and one EBS CSI
// driver simulator per cluster, installs a shop (a web Deployment and a
// StatefulSet on an EBS volume) in A, and runs the bluegreen binary through
// preflight, plan, apply (weights 100/0 → 0/100, with the live step view
// and the verified checklist), status and rollback. Everything it starts is
// stopped when it ends.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/bluegreen/bluegreen/test/migrationbed"
)

func main() {
	bin := flag.String("bluegreen", "bin/bluegreen", "the bluegreen binary")
	work := flag.String("work", ".cache/demo-cluster", "work folder (clusters, journal, spec)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *bin, *work); err != nil {
		fmt.Fprintln(os.Stderr, "migration demo:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, bin, work string) error {
	bin, _ = filepath.Abs(bin)
	_ = os.RemoveAll(work)
	if err := os.MkdirAll(work, 0o755); err != nil {
		return err
	}
	logf, err := os.Create(filepath.Join(work, "world.log"))
	if err != nil {
		return err
	}
	defer logf.Close()
	section("Start two local clusters (A = blue, B = green), the AWS wire fake and an EBS CSI simulator per cluster")
	w, err := migrationbed.Start(ctx, migrationbed.Options{
		AttachDelay: 300 * time.Millisecond, DetachDelay: 300 * time.Millisecond, EC2DetachDelay: time.Second,
		SnapshotDelay: 500 * time.Millisecond, ChangeSyncDelay: 300 * time.Millisecond,
		WorkDir: filepath.Join(work, "clusters"), Logger: slog.New(slog.NewTextHandler(logf, nil)),
	})
	if err != nil {
		return err
	}
	defer w.Stop(context.Background())
	fmt.Printf("A: %s   B: %s   AWS endpoint: %s\n", w.ContextA, w.ContextB, w.Endpoint)

	section("Install the shop in A: Deployment web and StatefulSet db on EBS volume (PV reclaim policy Delete)")
	shop, err := w.InstallShop(ctx, "shop", 1)
	if err != nil {
		return err
	}
	db := shop.StatefulSets[0]
	fmt.Printf("statefulset shop/db Ready in A; claim %s → pv %s → volume %s; %s weights blue 100 / green 0\n", db.PVC, db.PV, db.VolumeID, migrationbed.Record)
	spec := filepath.Join(work, "migration.yaml")
	if err := migrationbed.WriteSpec(spec, w.Spec(shop, migrationbed.SpecOptions{Pause: 500 * time.Millisecond})); err != nil {
		return err
	}
	env := append(os.Environ(), w.CLIEnv()...)
	env = append(env, "BLUEGREEN_AUDIT_LOG="+filepath.Join(work, "audit.jsonl"))
	bg := func(args ...string) error {
		fmt.Printf("$ bluegreen %s\n", strings.Join(args, " "))
		cmd := exec.CommandContext(ctx, bin, args...)
		cmd.Env, cmd.Stdout, cmd.Stderr = env, os.Stdout, os.Stderr
		return cmd.Run()
	}
	steps := []struct {
		title string
		args  []string
	}{
		{"Preflight: the runbook's worksheet, checked", []string{"migrate", "preflight", "-f", spec}},
		{"Plan (changes nothing)", []string{"migrate", "plan", "-f", spec}},
		{"Apply: standby, volume hand-off, weights 10 → 30 → 50 → 70 → 90 → 100, checklist", []string{"migrate", "apply", "-f", spec, "--skip-preflight"}},
		{"Status", []string{"migrate", "status", "-f", spec}},
		{"Roll back: one command sends traffic to A first, then the data", []string{"migrate", "rollback", "-f", spec}},
		{"Status after the rollback", []string{"migrate", "status", "-f", spec}},
	}
	for _, s := range steps {
		section(s.title)
		if err := bg(s.args...); err != nil {
			return fmt.Errorf("%s: %w", s.title, err)
		}
	}
	inst, err := w.AttachedTo(ctx, db.VolumeID)
	if err != nil {
		return err
	}
	fmt.Printf("\nvolume %s is attached to %s again; volumes deleted by anyone: %d\n", db.VolumeID, inst, len(w.AWS.DeletedVolumes()))
	return nil
}

func section(title string) { fmt.Printf("\n\033[1m== %s\033[0m\n", title) }
