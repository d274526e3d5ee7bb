package migrate

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	r53sdk "github.com/aws/aws-sdk-go-v2/service/route53"
	r53types "github.com/aws/aws-sdk-go-v2/service/route53/types"

	"github.com/bluegreen/bluegreen/internal/batch"
	"github.com/bluegreen/bluegreen/internal/clock"
	"github.com/bluegreen/bluegreen/internal/engine"
	"github.com/bluegreen/bluegreen/internal/plan"
)

// cname repoints an internal CNAME from A's value to B's and waits until
// Route 53 reports the change INSYNC; the undo points it back at A.
func (e Env) cname() engine.Action {
	return engine.Action{
		Do: func(ctx context.Context, x engine.Exec) (any, error) {
			var p plan.CNAMEParams
			if err := x.Step.DecodeParams(&p); err != nil {
				return nil, err
			}
			return nil, e.upsertCNAME(ctx, p.CNAME, p.CNAME.Green)
		},
		Undo: func(ctx context.Context, x engine.Exec) error {
			var p plan.CNAMEParams
			if err := x.Step.DecodeParams(&p); err != nil {
				return err
			}
			return e.upsertCNAME(ctx, p.CNAME, p.CNAME.Blue)
		},
	}
}

func (e Env) upsertCNAME(ctx context.Context, c plan.CNAME, value string) error {
	id, err := e.cnameBatch.upsert(ctx, c.ZoneID, r53types.Change{Action: r53types.ChangeActionUpsert, ResourceRecordSet: &r53types.ResourceRecordSet{
		Name: aws.String(c.Name), Type: r53types.RRTypeCname, TTL: aws.Int64(c.TTL),
		ResourceRecords: []r53types.ResourceRecord{{Value: aws.String(value)}},
	}})
	if err != nil {
		return fmt.Errorf("point cname %s at %s: %w", c.Name, value, err)
	}
	return e.waitInsync(ctx, id, c.Name)
}

func (e Env) waitInsync(ctx context.Context, id, what string) error {
	var failed batch.Misses
	err := clock.Poll(ctx, e.clk(), min(e.poll(), route53Poll), defaultSyncTimeout, func(ctx context.Context) (bool, error) {
		done, err := e.cnameBatch.insync(ctx, id)
		if err != nil {
			return false, failed.Tolerate(err)
		}
		failed = 0
		return done, nil
	})
	if err != nil {
		return fmt.Errorf("wait for change %s of %s to be INSYNC (the change still applies; Route 53 changes cannot be cancelled): %w", id, what, err)
	}
	return nil
}

// cnameValue reads the current value of a CNAME.
func (e Env) cnameValue(ctx context.Context, c plan.CNAME) (string, error) {
	out, err := e.AWS.Route53.ListResourceRecordSets(ctx, &r53sdk.ListResourceRecordSetsInput{
		HostedZoneId: aws.String(c.ZoneID), StartRecordName: aws.String(c.Name), StartRecordType: r53types.RRTypeCname,
	})
	if err != nil {
		return "", fmt.Errorf("read cname %s: %w", c.Name, err)
	}
	for _, rs := range out.ResourceRecordSets {
		if sameName(aws.ToString(rs.Name), c.Name) && rs.Type == r53types.RRTypeCname && len(rs.ResourceRecords) > 0 {
			return aws.ToString(rs.ResourceRecords[0].Value), nil
		}
	}
	return "", nil
}

func sameName(a, b string) bool {
	return strings.EqualFold(strings.TrimSuffix(a, "."), strings.TrimSuffix(b, "."))
}
