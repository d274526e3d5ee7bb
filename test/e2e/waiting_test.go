package e2e

import (
	"context"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/bluegreen/bluegreen/internal/journal"
)

// A scale-down delay keeps no process and no Lease: the CLI exits right
// after the switch, a rollback during the delay works, and once the delay
// is over status reports it due and the next command carries it out.
func TestScaleDownDelayNeedsNoProcess(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	e.givenBlueGreenApp("shop", v1, 2)

	// The CLI exits after the switch, blue still up, the Lease free
	r := e.mustCLI("deploy", "shop", "--image", v2, "--yes", "--scale-down-delay", "5s")
	if s := e.state("shop"); s.ActiveSelects != "green" || s.BlueReplicas != 2 || !strings.Contains(r.stdout, "Switched.") {
		t.Fatalf("after deploy with a delay: %+v\n%s", s, r)
	}
	lease, err := e.kube.CoordinationV1().Leases(e.ns).Get(ctx, "bluegreen-shop", metav1.GetOptions{})
	if err == nil && ptr.Deref(lease.Spec.HolderIdentity, "") != "" {
		t.Fatalf("the Lease is held during the delay by %s", *lease.Spec.HolderIdentity)
	}

	// A rollback during the delay is allowed, and instant
	e.mustCLI("rollback", "shop")
	if s := e.state("shop"); s.ActiveSelects != "blue" || s.BlueReplicas != 2 {
		t.Fatalf("after the rollback during the delay: %+v", s)
	}

	// A release whose delay passes: status reports it due, resume does it
	e.mustCLI("deploy", "shop", "--image", v3, "--yes", "--scale-down-delay", "2s")
	e.eventually("status reports the scale-down due", func() bool {
		return strings.Contains(e.mustCLI("status", "shop").stdout, "due now")
	})
	if s := e.state("shop"); s.BlueReplicas != 2 {
		t.Fatalf("status scaled blue down: %+v", s)
	}
	e.mustCLI("resume", "shop")
	if s := e.state("shop"); s.ActiveSelects != "green" || s.BlueReplicas != 0 {
		t.Fatalf("after resume once due: %+v", s)
	}

	// And a new release after a due delay first finishes the waiting run
	e.mustCLI("deploy", "shop", "--image", v2, "--yes", "--scale-down-delay", "1s")
	e.eventually("the second delay is due", func() bool {
		return strings.Contains(e.mustCLI("status", "shop").stdout, "due now")
	})
	out := e.mustCLI("deploy", "shop", "--image", v3, "--yes", "--keep-warm", "2")
	runs, err := e.runs().List(ctx, journal.Filter{App: "shop", Limit: 2})
	if err != nil || len(runs) != 2 || runs[1].State != journal.Succeeded || runs[1].Step("scale-down-old").State != journal.Done {
		t.Fatalf("the waiting run was not finished by the next release: %v\n%s", err, out)
	}
}
