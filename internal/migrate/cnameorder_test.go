package migrate

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	r53sdk "github.com/aws/aws-sdk-go-v2/service/route53"
	r53types "github.com/aws/aws-sdk-go-v2/service/route53/types"

	"github.com/bluegreen/bluegreen/internal/clock"
	"github.com/bluegreen/bluegreen/internal/plan"
	"github.com/bluegreen/bluegreen/test/awsfake"
)

// slowFirstChange holds the first ChangeResourceRecordSets on the wire for
// a while, as a throttled or slow request would be.
type slowFirstChange struct {
	delay      time.Duration
	seen, sent atomic.Int32
}

func (s *slowFirstChange) Do(req *http.Request) (*http.Response, error) {
	if req.Method != http.MethodPost {
		return http.DefaultClient.Do(req)
	}
	if s.seen.Add(1) == 1 {
		time.Sleep(s.delay)
	}
	defer s.sent.Add(1)
	return http.DefaultClient.Do(req)
}

// A CNAME step cancelled while its change is still on its way, then undone
// by the rollback, leaves the record on A's value: the undo's change goes
// out only after the forward change for the same name has, so it can never
// be overtaken by it.
func TestCNAMEUndoLandsAfterACancelledRepoint(t *testing.T) {
	// Given the record on A's value and a Route 53 whose first change request is slow
	fake := awsfake.New(awsfake.Options{}).StartT(t)
	zone := fake.AddHostedZone("internal.example.com")
	c := plan.CNAME{ZoneID: zone, Name: "db.shop.internal.example.com", TTL: 30, Blue: "db.blue.internal.example.com", Green: "db.green.internal.example.com"}
	if err := fake.AddRecords(zone, awsfake.Record{Name: c.Name, Type: "CNAME", TTL: 30, Values: []string{c.Blue}}); err != nil {
		t.Fatal(err)
	}
	cfg := fake.AWSConfig()
	slow := &slowFirstChange{delay: time.Second}
	cfg.HTTPClient = slow
	r53 := r53sdk.NewFromConfig(cfg)
	e := Env{Poll: 20 * time.Millisecond}
	e.cnameBatch = newCNAMEChanges(r53, clock.Real{}, e.poll())

	// When the repoint to B is cancelled while its change is on the wire, and the undo runs
	fwd, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.upsertCNAME(fwd, c, c.Green) }()
	time.Sleep(200 * time.Millisecond) // past the batch window: the change is being sent
	cancel()
	if err := <-done; err == nil {
		t.Fatal("the cancelled repoint returned no error")
	}
	if err := e.upsertCNAME(context.Background(), c, c.Blue); err != nil {
		t.Fatalf("undo: %v", err)
	}

	// Then, once both changes have gone out, the record points at A
	for deadline := time.Now().Add(10 * time.Second); slow.sent.Load() < 2; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d of 2 changes sent", slow.sent.Load())
		}
	}
	out, err := r53.ListResourceRecordSets(context.Background(), &r53sdk.ListResourceRecordSetsInput{HostedZoneId: aws.String(zone),
		StartRecordName: aws.String(c.Name), StartRecordType: r53types.RRTypeCname, MaxItems: aws.Int32(1)})
	if err != nil {
		t.Fatal(err)
	}
	if got := aws.ToString(out.ResourceRecordSets[0].ResourceRecords[0].Value); got != c.Blue+"." && got != c.Blue {
		t.Fatalf("record points at %s after the rollback, want %s", got, c.Blue)
	}
}
