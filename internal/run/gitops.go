package run

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"k8s.io/client-go/kubernetes"

	"github.com/bluegreen/bluegreen/internal/plan"
	"github.com/bluegreen/bluegreen/internal/service"
)

// CheckGitOps refuses a release that changes objects a GitOps tool
// manages, saying what the tool will do and how to let the change stand,
// unless allow is set; then it warns instead. It reads, and writes
// nothing.
func CheckGitOps(ctx context.Context, c kubernetes.Interface, log *slog.Logger, ns string, services, deployments []string, allow bool) error {
	owned, err := service.GitOpsOwned(ctx, c, ns, services, deployments)
	if err != nil || len(owned) == 0 {
		return err
	}
	lines := make([]string, 0, len(owned))
	for _, o := range owned {
		lines = append(lines, fmt.Sprintf("%s: %s", o, o.Owner.Consequence()))
	}
	if allow {
		for _, l := range lines {
			log.Warn("releasing an object a GitOps tool manages (--allow-gitops-owned)", "namespace", ns, "object", l)
		}
		return nil
	}
	return fmt.Errorf("%w: in namespace %s, %s. Once the tool leaves these fields alone, pass --allow-gitops-owned (see the GitOps section of docs/service-scope.md)",
		plan.ErrInvalid, ns, strings.Join(lines, "; "))
}
