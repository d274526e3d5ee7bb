package migrate

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	r53sdk "github.com/aws/aws-sdk-go-v2/service/route53"
	r53types "github.com/aws/aws-sdk-go-v2/service/route53/types"

	"github.com/bluegreen/bluegreen/internal/awscluster"
	"github.com/bluegreen/bluegreen/internal/batch"
	"github.com/bluegreen/bluegreen/internal/clock"
)

// route53Poll paces the reads of a change's status, as the weighted-record
// router does: Route 53 allows five requests a second per account, and a
// change takes tens of seconds to be INSYNC on AWS.
const route53Poll = time.Second

// cnameChanges batches the lanes' CNAME repoints. Lanes that repoint at
// the same time (fifty StatefulSets handed off side by side) send one
// ChangeResourceRecordSets per hosted zone with all their changes (a batch
// takes up to 1,000) and share the reads of that change's status, instead
// of fifty of each against a quota of five requests a second.
type cnameChanges struct {
	clk    clock.Clock
	r53    awscluster.Route53
	window time.Duration // how long a batch waits for more lanes to join

	mu      sync.Mutex
	pending map[string]*changeBatch // by hosted zone
	// last is, by record name, the newest batch holding a change of it.
	last   map[string]*changeBatch
	status *batch.Batcher[r53types.ChangeStatus]
}

type changeBatch struct {
	ctx     context.Context // the first lane's, without its cancellation
	changes []r53types.Change
	done    chan struct{}
	ids     []string // the change ID each lane's change went out in
	errs    []error
}

// maxChanges is Route 53's limit of changes in one batch.
const maxChanges = 1000

func newCNAMEChanges(r53 awscluster.Route53, clk clock.Clock, window time.Duration) *cnameChanges {
	return &cnameChanges{r53: r53, clk: clk, window: window, pending: map[string]*changeBatch{}, last: map[string]*changeBatch{},
		status: &batch.Batcher[r53types.ChangeStatus]{Interval: route53Poll, Clock: clk, Fetch: func(ctx context.Context, ids []string) (map[string]r53types.ChangeStatus, error) {
			out := map[string]r53types.ChangeStatus{}
			for _, id := range ids {
				got, err := r53.GetChange(ctx, &r53sdk.GetChangeInput{Id: aws.String(id)})
				if err != nil {
					return nil, fmt.Errorf("get change %s: %w", id, err)
				}
				out[id] = got.ChangeInfo.Status
			}
			return out, nil
		}}}
}

// upsert sends change to zone with whatever other lanes send in the same
// window and returns the ID of the change it went out in.
//
// Changes of one record name go out one batch after the other: a change
// joins no batch while an earlier change of the same name is still
// queued or on the wire. A lane cancelled mid-repoint returns at once but
// its change still goes out (Route 53 changes cannot be recalled), and
// the rollback's change back to A must not overtake it and be overwritten.
func (c *cnameChanges) upsert(ctx context.Context, zone string, change r53types.Change) (string, error) {
	name := strings.ToLower(strings.TrimSuffix(aws.ToString(change.ResourceRecordSet.Name), "."))
	c.mu.Lock()
	for prev := c.last[name]; prev != nil && !closed(prev.done); prev = c.last[name] {
		c.mu.Unlock()
		select {
		case <-prev.done:
		case <-ctx.Done():
			return "", context.Cause(ctx)
		}
		c.mu.Lock()
	}
	b := c.pending[zone]
	if b == nil || len(b.changes) == maxChanges {
		b = &changeBatch{ctx: context.WithoutCancel(ctx), done: make(chan struct{})}
		c.pending[zone] = b
		go c.send(zone, b)
	}
	i := len(b.changes)
	b.changes = append(b.changes, change)
	c.last[name] = b
	c.mu.Unlock()
	select {
	case <-b.done:
		return b.ids[i], b.errs[i]
	case <-ctx.Done():
		return "", context.Cause(ctx)
	}
}

func closed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

func (c *cnameChanges) send(zone string, b *changeBatch) {
	_ = clock.Sleep(b.ctx, c.clk, c.window) // more lanes join the batch meanwhile (b.ctx is never cancelled)
	c.mu.Lock()
	if c.pending[zone] == b {
		delete(c.pending, zone)
	}
	changes := b.changes
	c.mu.Unlock()
	b.ids, b.errs = make([]string, len(changes)), make([]error, len(changes))
	ctx, cancel := context.WithTimeout(b.ctx, time.Minute)
	defer cancel()
	defer close(b.done)
	id, err := c.change(ctx, zone, changes)
	if err == nil || len(changes) == 1 {
		for i := range changes {
			b.ids[i], b.errs[i] = id, err
		}
		return
	}
	// A batch is all or nothing: one lane's bad change (or two lanes
	// repointing the same name) must not fail the others, so each goes
	// out on its own.
	for i, ch := range changes {
		b.ids[i], b.errs[i] = c.change(ctx, zone, []r53types.Change{ch})
	}
}

func (c *cnameChanges) change(ctx context.Context, zone string, changes []r53types.Change) (string, error) {
	comment := "bluegreen: repoint " + aws.ToString(changes[0].ResourceRecordSet.Name)
	if len(changes) > 1 {
		comment = fmt.Sprintf("bluegreen: repoint %d CNAMEs", len(changes))
	}
	out, err := c.r53.ChangeResourceRecordSets(ctx, &r53sdk.ChangeResourceRecordSetsInput{
		HostedZoneId: aws.String(zone),
		ChangeBatch:  &r53types.ChangeBatch{Comment: aws.String(comment), Changes: changes},
	})
	if err != nil {
		return "", err
	}
	return aws.ToString(out.ChangeInfo.Id), nil
}

// insync reports whether change id is INSYNC, from a read shared with
// every lane waiting on a change.
func (c *cnameChanges) insync(ctx context.Context, id string) (bool, error) {
	got, err := c.status.Get(ctx, []string{id})
	if err != nil {
		return false, err
	}
	return got[id] == r53types.ChangeStatusInsync, nil
}
