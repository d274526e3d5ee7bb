package route53_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdk "github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/route53/types"

	"github.com/bluegreen/bluegreen/internal/awscluster"
	"github.com/bluegreen/bluegreen/internal/traffic"
	"github.com/bluegreen/bluegreen/internal/traffic/route53"
	"github.com/bluegreen/bluegreen/test/awsfake"
)

const (
	record  = "app.example.com"
	blueLB  = "a-1234.us-east-1.elb.amazonaws.com"
	greenLB = "b-5678.us-east-1.elb.amazonaws.com"
)

// env is a Route 53 fake, an SDK client on it, a hosted zone and a router
// whose calls are recorded.
type env struct {
	srv    *awsfake.Server
	sdk    *sdk.Client
	zone   string
	rec    *recorder
	router *route53.Router
}

func newEnv(t *testing.T, opts awsfake.Options) *env {
	t.Helper()
	srv := awsfake.New(opts).StartT(t)
	c := sdk.NewFromConfig(srv.AWSConfig())
	rec := &recorder{Route53: c}
	return &env{srv: srv, sdk: c, zone: srv.AddHostedZone("example.com"), rec: rec, router: route53.New(rec)}
}

// target is a CNAME target blue -> blueLB, green -> greenLB with extra
// options on top.
func (e *env) target(extra map[string]string) traffic.Target {
	o := map[string]string{
		route53.ZoneOption:         e.zone,
		route53.PollIntervalOption: "5ms",
		"blue.set-identifier":      "cluster-a",
		"blue.value":               blueLB,
		"green.set-identifier":     "cluster-b",
		"green.value":              greenLB,
	}
	for k, v := range extra {
		if v == "" {
			delete(o, k)
			continue
		}
		o[k] = v
	}
	return traffic.Target{Name: record, Options: o}
}

// upsert writes record sets out of band, as a person with the console would.
func (e *env) upsert(t *testing.T, sets ...types.ResourceRecordSet) {
	t.Helper()
	in := &sdk.ChangeResourceRecordSetsInput{HostedZoneId: aws.String(e.zone), ChangeBatch: &types.ChangeBatch{}}
	for _, rs := range sets {
		in.ChangeBatch.Changes = append(in.ChangeBatch.Changes, types.Change{Action: types.ChangeActionUpsert, ResourceRecordSet: &rs})
	}
	if _, err := e.sdk.ChangeResourceRecordSets(context.Background(), in); err != nil {
		t.Fatalf("out-of-band upsert: %v", err)
	}
}

// seed writes the blue and green CNAME record sets with the given weights.
func (e *env) seed(t *testing.T, blueW, greenW int64) {
	t.Helper()
	e.upsert(t, cname("cluster-a", blueW, blueLB), cname("cluster-b", greenW, greenLB))
}

func cname(id string, w int64, value string) types.ResourceRecordSet {
	return types.ResourceRecordSet{
		Name: aws.String(record), Type: types.RRTypeCname, SetIdentifier: aws.String(id), Weight: aws.Int64(w),
		TTL: aws.Int64(60), ResourceRecords: []types.ResourceRecord{{Value: aws.String(value)}},
	}
}

// listed returns set identifier -> record set for the CNAMEs named record,
// straight from the API.
func (e *env) listed(t *testing.T) map[string]types.ResourceRecordSet {
	t.Helper()
	out, err := e.sdk.ListResourceRecordSets(context.Background(), &sdk.ListResourceRecordSetsInput{HostedZoneId: aws.String(e.zone)})
	if err != nil {
		t.Fatalf("list record sets: %v", err)
	}
	got := map[string]types.ResourceRecordSet{}
	for _, rs := range out.ResourceRecordSets {
		if aws.ToString(rs.Name) == record+"." && rs.Type == types.RRTypeCname {
			got[aws.ToString(rs.SetIdentifier)] = rs
		}
	}
	return got
}

func (e *env) changeStatus(t *testing.T, id string) types.ChangeStatus {
	t.Helper()
	out, err := e.sdk.GetChange(context.Background(), &sdk.GetChangeInput{Id: aws.String(id)})
	if err != nil {
		t.Fatalf("get change %s: %v", id, err)
	}
	return out.ChangeInfo.Status
}

// recorder passes calls through and remembers what it saw; pageSize > 0
// forces small list pages.
type recorder struct {
	awscluster.Route53
	pageSize int32

	mu       sync.Mutex
	changes  []string
	statuses []types.ChangeStatus
	lists    int
}

func (r *recorder) ListResourceRecordSets(ctx context.Context, in *sdk.ListResourceRecordSetsInput, opts ...func(*sdk.Options)) (*sdk.ListResourceRecordSetsOutput, error) {
	r.mu.Lock()
	r.lists++
	if r.pageSize > 0 {
		in.MaxItems = aws.Int32(r.pageSize)
	}
	r.mu.Unlock()
	return r.Route53.ListResourceRecordSets(ctx, in, opts...)
}

func (r *recorder) ChangeResourceRecordSets(ctx context.Context, in *sdk.ChangeResourceRecordSetsInput, opts ...func(*sdk.Options)) (*sdk.ChangeResourceRecordSetsOutput, error) {
	out, err := r.Route53.ChangeResourceRecordSets(ctx, in, opts...)
	if err == nil {
		r.mu.Lock()
		r.changes = append(r.changes, aws.ToString(out.ChangeInfo.Id))
		r.mu.Unlock()
	}
	return out, err
}

func (r *recorder) GetChange(ctx context.Context, in *sdk.GetChangeInput, opts ...func(*sdk.Options)) (*sdk.GetChangeOutput, error) {
	out, err := r.Route53.GetChange(ctx, in, opts...)
	if err == nil {
		r.mu.Lock()
		r.statuses = append(r.statuses, out.ChangeInfo.Status)
		r.mu.Unlock()
	}
	return out, err
}

func (r *recorder) seen() (changes []string, statuses []types.ChangeStatus) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.changes...), append([]types.ChangeStatus(nil), r.statuses...)
}

// fakeClock drives the fake's manual clock: a wait moves time forward at
// once, so a 60 s propagation takes no real time.
type fakeClock struct{ m *awsfake.ManualClock }

func (c fakeClock) Now() time.Time { return c.m.Now() }

func (c fakeClock) After(d time.Duration) <-chan time.Time {
	c.m.Advance(max(d, 0))
	ch := make(chan time.Time, 1)
	ch <- c.m.Now()
	return ch
}

func (c fakeClock) SleepUntil(ctx context.Context, t time.Time) error {
	if d := t.Sub(c.m.Now()); d > 0 {
		c.m.Advance(d)
	}
	return ctx.Err()
}

func wantErr(t *testing.T, err error, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("want an error containing %q, got nil", parts)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Fatalf("error %q does not contain %q", err, p)
		}
	}
}
