//go:build testbed

package volume

import (
	"log/slog"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/bluegreen/bluegreen/internal/engine"
	"github.com/bluegreen/bluegreen/test/awsfake"
	"github.com/bluegreen/bluegreen/test/testbed"
)

// handoffWorld is a source and a target test-bed cluster and the AWS wire
// fake, with the hand-off's actions wired to them through the real clients.
type handoffWorld struct {
	a, b    *testbed.Cluster
	aws     *awsfake.Server
	env     Env
	actions map[string]engine.Action
}

func startHandoffWorld(t *testing.T) *handoffWorld {
	t.Helper()
	w := &handoffWorld{
		a:   testbed.StartT(t, testbed.Options{Name: "vol-a", Zones: []string{"us-east-1a"}}),
		b:   testbed.StartT(t, testbed.Options{Name: "vol-b", Zones: []string{"us-east-1a"}}),
		aws: awsfake.New(awsfake.Options{}).StartT(t),
	}
	w.env = Env{Source: w.a.Client, Target: w.b.Client, SourceName: "cluster-a", TargetName: "cluster-b",
		EC2: ec2.NewFromConfig(w.aws.AWSConfig()), Log: slog.New(slog.DiscardHandler), Poll: 50 * time.Millisecond}
	w.actions = Actions(w.env)
	return w
}
