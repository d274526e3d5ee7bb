//go:build testbed

package volume

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/bluegreen/bluegreen/internal/plan"
	"github.com/bluegreen/bluegreen/test/awsfake"
)

// firstInstance returns the EC2 instance of a cluster's first node, known
// to the fake.
func firstInstance(ctx context.Context, t *testing.T, c kubernetes.Interface, fake *awsfake.Server) string {
	t.Helper()
	nodes, err := c.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil || len(nodes.Items) == 0 {
		t.Fatalf("list nodes: %v (%d)", err, len(nodes.Items))
	}
	inst := instanceOf(nodes.Items[0])
	fake.AddInstance(inst, "us-east-1a")
	return inst
}

// --force-detach forces only what A's stopped StatefulSet held: a volume
// still attached to a node of B (where the database may already run) is
// refused, naming the instance and the node, and nothing is detached; one
// stuck on A's node is forced.
func TestForceDetachOnlyFromNodesOfTheSource(t *testing.T) {
	w := startHandoffWorld(t)
	ctx := ctxT(t)
	ec := ec2.NewFromConfig(w.aws.AWSConfig())
	tests := []struct {
		name       string
		holder     kubernetes.Interface
		wantErr    string
		wantForced bool
	}{
		{"attached to a node of B", w.b.Client, "not a node of cluster-a", false},
		{"stuck on a node of A", w.a.Client, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Given a volume attached to the holder's node, whose detach never completes
			inst := firstInstance(ctx, t, tt.holder, w.aws)
			vol, err := w.aws.AddVolume(awsfake.Volume{AZ: "us-east-1a", Size: 10})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := ec.AttachVolume(ctx, &ec2.AttachVolumeInput{VolumeId: aws.String(vol), InstanceId: aws.String(inst), Device: aws.String("/dev/xvdb" + vol[len(vol)-1:])}); err != nil {
				t.Fatal(err)
			}
			w.aws.HoldAttachment(vol, true)

			// When wait-detached runs with force-detach and times out
			p := plan.HandoffParams{Namespace: "shop", Name: "db", Replicas: 1, Claims: []plan.ClaimObserved{claimOn(vol)},
				Timeout: plan.Duration(500e6), ForceDetach: true}
			_, err = w.actions[plan.KindWaitDetached].Do(ctx, exec(t, "run", plan.KindWaitDetached, p))

			// Then a foreign holder is refused by name and never forced
			forced := slices.Contains(w.aws.ForcedDetaches(), vol)
			if forced != tt.wantForced {
				t.Fatalf("volume %s forced = %v, want %v (err %v)", vol, forced, tt.wantForced, err)
			}
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("wait-detached: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), inst) || !strings.Contains(err.Error(), "node ") {
				t.Fatalf("err = %v, want a refusal naming instance %s, its node and %q", err, inst, tt.wantErr)
			}
		})
	}
}
