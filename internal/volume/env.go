package volume

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/bluegreen/bluegreen/internal/awscluster"
	"github.com/bluegreen/bluegreen/internal/clock"
	"github.com/bluegreen/bluegreen/internal/engine"
	"github.com/bluegreen/bluegreen/internal/kube"
	"github.com/bluegreen/bluegreen/internal/plan"
)

// ErrNotRetain is returned when a PV is not Retain at a point where the
// hand-off would otherwise risk its volume.
var ErrNotRetain = errors.New("persistent volume is not Retain")

// RunLabel marks the objects and snapshots a run created.
const RunLabel = "bluegreen.dev/run"

// Env is what the hand-off actions work on.
type Env struct {
	// Source is cluster A, Target cluster B.
	Source, Target kubernetes.Interface
	// SourceName and TargetName name the clusters in messages (contexts).
	SourceName, TargetName string
	EC2                    awscluster.EC2
	Log                    *slog.Logger
	// Poll is how often waits re-read the clusters and EC2 (default 250ms).
	Poll time.Duration
	// Clock times every wait; nil is the wall clock.
	Clock clock.Clock

	// reads batches the waits' EC2 reads across lanes. Actions sets it;
	// the actions are the only users of an Env's methods.
	reads *ec2Reads
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

// Actions returns the engine actions of the hand-off step kinds.
func Actions(e Env) map[string]engine.Action {
	e.reads = newEC2Reads(e.EC2, e.poll())
	return map[string]engine.Action{
		plan.KindRetain:         e.retain(),
		plan.KindSnapshot:       e.snapshot(),
		plan.KindScaleSource:    e.scaleSource(),
		plan.KindWaitDetached:   e.waitDetached(),
		plan.KindTagVolumes:     e.tag(),
		plan.KindReleaseClaims:  e.releaseClaims(),
		plan.KindStaticPV:       e.staticPV(),
		plan.KindApplyTarget:    e.applyTarget(),
		plan.KindVerifyAttached: e.verifyAttached(),
	}
}

func params(x engine.Exec) (plan.HandoffParams, error) {
	var p plan.HandoffParams
	err := x.Step.DecodeParams(&p)
	return p, err
}

func volumeIDs(p plan.HandoffParams) []string {
	out := make([]string, 0, len(p.Claims))
	for _, c := range p.Claims {
		out = append(out, c.VolumeID)
	}
	return out
}

// kerr marks API errors worth retrying as transient.
func kerr(err error) error { return kube.Transient(err) }

// instanceOf returns the EC2 instance ID of a node from its providerID
// (aws:///<az>/i-…).
func instanceOf(n corev1.Node) string {
	id := n.Spec.ProviderID
	if i := strings.LastIndex(id, "/"); i >= 0 {
		id = id[i+1:]
	}
	if strings.HasPrefix(id, "i-") {
		return id
	}
	return ""
}

// nodesByInstance maps instance IDs to node names of one cluster.
func nodesByInstance(ctx context.Context, c kubernetes.Interface) (map[string]string, error) {
	nodes, err := c.CoreV1().Nodes().List(ctx, metav1.ListOptions{ResourceVersion: "0"})
	if err != nil {
		return nil, fmt.Errorf("list nodes: %w", kerr(err))
	}
	out := map[string]string{}
	for _, n := range nodes.Items {
		if id := instanceOf(n); id != "" {
			out[id] = n.Name
		}
	}
	return out, nil
}
