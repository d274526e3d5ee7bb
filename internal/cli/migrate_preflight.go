//go:build !lean

package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/bluegreen/bluegreen/internal/plan"
	"github.com/bluegreen/bluegreen/internal/preflight"
	"github.com/bluegreen/bluegreen/internal/run/clusterscope"
)

// ErrPreflight means a preflight check failed; nothing was changed.
var ErrPreflight = errors.New("preflight failed")

// preflight runs the worksheet checks and the removed-API scan, prints
// them, and fails if any check failed. It writes nothing.
func (s *migrateSession) preflight(ctx context.Context, obs plan.MigrationObserved, standalone bool) error {
	results, err := clusterscope.Preflight(ctx, clusterscope.PreflightInput{Migration: s.m, Env: s.env, Observed: obs,
		SourceConfig: s.src.Config, TargetContext: s.dst.Context})
	if err != nil {
		return err
	}
	if s.g.structured() && standalone {
		if err := s.g.emit("Preflight", s.m.Name, results); err != nil {
			return err
		}
	} else if !s.g.structured() {
		s.g.printf("Preflight: %s → %s\n", s.src.Context, s.dst.Context)
		for _, r := range results {
			mark := map[preflight.Status]string{preflight.Pass: "✓", preflight.Warn: "!", preflight.Fail: "✗"}[r.Status]
			s.g.printf("  %s %-16s %s\n", mark, r.Name, r.Detail)
			if r.Status != preflight.Pass && r.Hint != "" {
				s.g.printf("    fix: %s\n", r.Hint)
			}
		}
	}
	if preflight.Failed(results) {
		var failed []string
		for _, r := range results {
			if r.Status == preflight.Fail {
				failed = append(failed, r.Name)
			}
		}
		return fmt.Errorf("%w: %v; nothing was changed. Fix them and run again (apply --skip-preflight runs anyway)", ErrPreflight, failed)
	}
	return nil
}
