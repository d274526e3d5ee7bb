package run

import (
	"context"
	"fmt"

	"k8s.io/client-go/kubernetes"

	"github.com/bluegreen/bluegreen/internal/clock"
	"github.com/bluegreen/bluegreen/internal/kube"
	"github.com/bluegreen/bluegreen/internal/plan"
)

// RequestAbort asks the run holding k's Lease to abort. It returns the
// holder, or "" when no live run holds it (then nothing was asked).
func RequestAbort(ctx context.Context, clk clock.Clock, c kubernetes.Interface, k Key) (string, error) {
	return kube.RequestAbort(ctx, clk, c, k.Namespace, k.LeaseName())
}

// Unlock breaks k's Lease by force, returning who held it ("" when it was
// free). A holder that renewed recently looks alive and is broken only
// when force is set: otherwise the error says to abort it instead.
func Unlock(ctx context.Context, clk clock.Clock, c kubernetes.Interface, k Key, force bool) (string, error) {
	ns, name := k.Namespace, k.LeaseName()
	live, err := kube.LiveHolder(ctx, clk, c, ns, name)
	if err != nil {
		return "", err
	}
	if live != "" && !force {
		return "", fmt.Errorf("%w: lease %s/%s is held by %s, which renewed it recently and looks alive: stop it with `bluegreen abort` instead, or pass --yes if it is known to be stuck",
			plan.ErrInvalid, ns, name, live)
	}
	return kube.Unlock(ctx, clk, c, ns, name, kube.Self("").User)
}

// CheckFree fails when a live run holds k's Lease.
func CheckFree(ctx context.Context, clk clock.Clock, c kubernetes.Interface, k Key) error {
	return kube.Check(ctx, clk, c, k.Namespace, k.LeaseName())
}
