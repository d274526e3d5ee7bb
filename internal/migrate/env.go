package migrate

import (
	"log/slog"
	"time"

	"k8s.io/client-go/kubernetes"

	"github.com/bluegreen/bluegreen/internal/awscluster"
	"github.com/bluegreen/bluegreen/internal/check"
	"github.com/bluegreen/bluegreen/internal/clock"
	"github.com/bluegreen/bluegreen/internal/engine"
	"github.com/bluegreen/bluegreen/internal/plan"
	"github.com/bluegreen/bluegreen/internal/standby"
	"github.com/bluegreen/bluegreen/internal/traffic"
	"github.com/bluegreen/bluegreen/internal/volume"
)

// Env is what the cluster-scope actions work on.
type Env struct {
	// Source is cluster A (blue), Target cluster B (green).
	Source, Target kubernetes.Interface
	// SourceObjects and TargetObjects serve the warm standby copy.
	SourceObjects, TargetObjects *standby.Cluster
	SourceName, TargetName       string
	AWS                          *awscluster.Clients
	// Router moves the weighted records; Records are its targets.
	Router  traffic.Router
	Records []traffic.Target
	Checks  []check.Check
	// TargetLoadBalancers are B's load balancers (target.loadBalancers)
	// whose target groups must be healthy after every shift.
	TargetLoadBalancers []string
	// TargetHealthWait bounds the wait for them to be healthy (default 2m).
	TargetHealthWait time.Duration
	Log              *slog.Logger
	Clock            clock.Clock
	// Poll is how often waits re-read clusters and AWS (default 250ms).
	Poll time.Duration

	// cnameBatch batches the lanes' CNAME changes. Actions sets it; the
	// actions are the only users of an Env's CNAME methods.
	cnameBatch *cnameChanges
}

// clk is the Env's clock, the wall clock when none is set.
func (e Env) clk() clock.Clock {
	if e.Clock == nil {
		return clock.Real{}
	}
	return e.Clock
}

func (e Env) poll() time.Duration {
	if e.Poll > 0 {
		return e.Poll
	}
	return 250 * time.Millisecond
}

// Actions returns every cluster-scope action: the hand-off's and this
// package's.
func Actions(e Env) map[string]engine.Action {
	e.cnameBatch = newCNAMEChanges(e.AWS.Route53, e.clk(), e.poll())
	acts := volume.Actions(volume.Env{
		Source: e.Source, Target: e.Target, SourceName: e.SourceName, TargetName: e.TargetName,
		EC2: e.AWS.EC2, Log: e.Log, Poll: e.Poll, Clock: e.Clock,
	})
	acts[plan.KindStandby] = e.standbyCopy()
	acts[plan.KindStandbyReady] = e.standbyReady()
	acts[plan.KindShift] = e.shift()
	acts[plan.KindApproveShift] = e.approveShift()
	acts[plan.KindRepointCNAME] = e.cname()
	acts[plan.KindVerifyChecklist] = e.checklist()
	return acts
}

// defaultSyncTimeout bounds the wait for an internal CNAME change to be
// INSYNC (Route 53 usually takes well under a minute).
const defaultSyncTimeout = 2 * time.Minute

// ClientQPS is the Kubernetes client rate limit for a migration whose
// hand-off runs parallelism lanes: every lane polls, so a fixed limit
// would queue fifty hand-offs behind one client-side limiter.
func ClientQPS(parallelism int) float32 { return float32(50 + 10*parallelism) }
