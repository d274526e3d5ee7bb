package migrate

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	r53sdk "github.com/aws/aws-sdk-go-v2/service/route53"
	r53types "github.com/aws/aws-sdk-go-v2/service/route53/types"

	"github.com/bluegreen/bluegreen/internal/clock"
	"github.com/bluegreen/bluegreen/test/awsfake"
)

// countingHTTP counts the Route 53 requests the SDK sends, by path.
type countingHTTP struct {
	mu    sync.Mutex
	paths map[string]int
}

func (c *countingHTTP) Do(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		body, err := io.ReadAll(req.Body)
		if err != nil {
			return nil, err
		}
		req.Body = io.NopCloser(bytes.NewReader(body))
	}
	key := req.Method + " " + req.URL.Path
	if strings.Contains(req.URL.Path, "/change/") {
		key = req.Method + " change"
	}
	c.mu.Lock()
	c.paths[key]++
	c.mu.Unlock()
	return http.DefaultClient.Do(req)
}

// Thirty lanes repointing their CNAMEs at once send one change batch and
// share its status reads; each lane's record ends up pointing where it
// asked. A lane whose change Route 53 rejects fails alone.
func TestCNAMEChangesBatchLanes(t *testing.T) {
	ctx := context.Background()
	fake := awsfake.New(awsfake.Options{ChangeSyncDelay: 300 * time.Millisecond}).StartT(t)
	zone := fake.AddHostedZone("shop.internal.")
	hc := &countingHTTP{paths: map[string]int{}}
	cfg := fake.AWSConfig()
	cfg.HTTPClient = hc
	r53 := r53sdk.NewFromConfig(cfg)
	e := Env{Poll: 50 * time.Millisecond}
	e.cnameBatch = newCNAMEChanges(r53, clock.Real{}, e.poll())

	const lanes = 30
	errs := make([]error, lanes+1)
	var wg sync.WaitGroup
	for i := range lanes + 1 {
		wg.Go(func() {
			name := fmt.Sprintf("db-%d.shop.internal", i)
			if i == lanes {
				name = "db.elsewhere.example" // not in the zone: Route 53 refuses it
			}
			id, err := e.cnameBatch.upsert(ctx, zone, r53types.Change{Action: r53types.ChangeActionUpsert, ResourceRecordSet: &r53types.ResourceRecordSet{
				Name: aws.String(name), Type: r53types.RRTypeCname, TTL: aws.Int64(30),
				ResourceRecords: []r53types.ResourceRecord{{Value: aws.String(fmt.Sprintf("db-%d.b.example", i))}},
			}})
			if err == nil {
				err = e.waitInsync(ctx, id, name)
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for i, err := range errs[:lanes] {
		if err != nil {
			t.Fatalf("lane %d: %v", i, err)
		}
	}
	if errs[lanes] == nil || !strings.Contains(errs[lanes].Error(), "InvalidChangeBatch") {
		t.Fatalf("the change outside the zone: err = %v, want Route 53's refusal", errs[lanes])
	}

	hc.mu.Lock()
	gets := hc.paths["GET change"]
	hc.mu.Unlock()
	// Each lane alone would read its change's status every 50 ms for the
	// 300 ms the change stays PENDING: six reads or more per lane, 180 in
	// all; shared, one read per pending change per second.
	if gets > 4*lanes {
		t.Fatalf("%d GetChange for %d lanes: status reads are not shared", gets, lanes)
	}

	for i := range lanes {
		out, err := r53.ListResourceRecordSets(ctx, &r53sdk.ListResourceRecordSetsInput{HostedZoneId: aws.String(zone),
			StartRecordName: aws.String(fmt.Sprintf("db-%d.shop.internal", i)), StartRecordType: r53types.RRTypeCname, MaxItems: aws.Int32(1)})
		if err != nil {
			t.Fatal(err)
		}
		want := fmt.Sprintf("db-%d.b.example", i)
		if len(out.ResourceRecordSets) != 1 || aws.ToString(out.ResourceRecordSets[0].ResourceRecords[0].Value) != want {
			t.Fatalf("db-%d: records %v, want a CNAME to %s", i, out.ResourceRecordSets, want)
		}
	}
}

// When every change is valid, the lanes' changes go out together.
func TestCNAMEChangesOneBatch(t *testing.T) {
	ctx := context.Background()
	fake := awsfake.New(awsfake.Options{}).StartT(t)
	zone := fake.AddHostedZone("shop.internal.")
	hc := &countingHTTP{paths: map[string]int{}}
	cfg := fake.AWSConfig()
	cfg.HTTPClient = hc
	c := newCNAMEChanges(r53sdk.NewFromConfig(cfg), clock.Real{}, 100*time.Millisecond)
	ids := make([]string, 20)
	var wg sync.WaitGroup
	for i := range ids {
		wg.Go(func() {
			id, err := c.upsert(ctx, zone, r53types.Change{Action: r53types.ChangeActionUpsert, ResourceRecordSet: &r53types.ResourceRecordSet{
				Name: aws.String(fmt.Sprintf("q-%d.shop.internal", i)), Type: r53types.RRTypeCname, TTL: aws.Int64(30),
				ResourceRecords: []r53types.ResourceRecord{{Value: aws.String("x.example")}},
			}})
			if err != nil {
				t.Error(err)
			}
			ids[i] = id
		})
	}
	wg.Wait()
	changes := map[string]bool{}
	for _, id := range ids {
		changes[id] = true
	}
	if len(changes) > 2 {
		t.Fatalf("20 lanes' changes went out in %d change batches: %v", len(changes), hc.paths)
	}
}
