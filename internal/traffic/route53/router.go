package route53

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdk "github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/route53/types"
	"github.com/aws/smithy-go"

	"github.com/bluegreen/bluegreen/internal/awscluster"
	"github.com/bluegreen/bluegreen/internal/clock"
	"github.com/bluegreen/bluegreen/internal/engine"
	"github.com/bluegreen/bluegreen/internal/traffic"
)

// Name is the router's registered name.
const Name = "route53"

func init() {
	traffic.Register(traffic.Plugin{
		Name: Name,
		New: func(d traffic.Deps) (traffic.Router, error) {
			api, ok := d.Route53.(awscluster.Route53)
			if !ok || api == nil {
				return nil, fmt.Errorf("no Route 53 client: set traffic.Deps.Route53 to an awscluster.Route53 (got %T)", d.Route53)
			}
			return &Router{API: api, Clock: d.Clock}, nil
		},
		Records:        records,
		ClusterDefault: true,
	})
}

// Router moves traffic by writing the weights of Route 53 weighted record
// sets. The zero value needs API set.
type Router struct {
	// API is the Route 53 client.
	API awscluster.Route53
	// Clock paces the wait for INSYNC; nil means the wall clock.
	Clock clock.Clock
}

// New returns a Router calling api.
func New(api awscluster.Route53) *Router { return &Router{API: api} }

func (r *Router) clock() clock.Clock {
	if r.Clock == nil {
		return clock.Real{}
	}
	return r.Clock
}

func (r *Router) config(t traffic.Target) (Config, error) {
	if r.API == nil {
		return Config{}, fmt.Errorf("route53 router for %s has no Route 53 client: set traffic.Deps.Route53", t.Name)
	}
	return ParseOptions(t)
}

// Observe implements traffic.Router. It reads every weighted record set of
// the target's name and type and converts the colors' weights to percent
// (see traffic.SplitFromWeights; all weights 0 read as equal shares). It fails when a
// color's record set is missing, when a record set without a set identifier
// exists (it would conflict with weighted ones), when a record set is not
// weighted, and when a set identifier belongs to no configured color.
func (r *Router) Observe(ctx context.Context, t traffic.Target) (traffic.Split, error) {
	cfg, err := r.config(t)
	if err != nil {
		return nil, err
	}
	states, err := r.records(ctx, cfg)
	if err != nil {
		return nil, err
	}
	weights := map[string]int64{}
	for _, s := range states {
		switch {
		case s.SetIdentifier == "":
			return nil, fmt.Errorf("record set %s has no set identifier: a simple record conflicts with weighted ones, replace it with one weighted record set per color", cfg)
		case s.Color == "":
			return nil, fmt.Errorf("record set %s set-identifier %q is not managed by this migration (configured: %s)", cfg, s.SetIdentifier, cfg.setIdentifiers())
		case !s.Exists:
			return nil, fmt.Errorf("record set %s set-identifier %q of color %s not found in hosted zone %s: create it, or shift to write it", cfg, s.SetIdentifier, s.Color, cfg.Zone)
		case s.Weight == nil:
			return nil, fmt.Errorf("record set %s set-identifier %q has a routing policy other than weighted: replace it with a weighted record set", cfg, s.SetIdentifier)
		}
		weights[s.Color] = *s.Weight
	}
	return traffic.SplitFromWeights(weights), nil
}

// Shift implements traffic.Router. It UPSERTs the weighted record sets of
// all colors in one change batch, which Route 53 applies atomically, so no
// resolver ever sees one color's new weight next to another's old one. It
// then waits until Route 53 reports the change INSYNC. Repeating a Shift
// writes the same record sets again and is harmless.
func (r *Router) Shift(ctx context.Context, t traffic.Target, s traffic.Split) error {
	cfg, err := r.config(t)
	if err != nil {
		return err
	}
	if err := traffic.ValidateSplit(s, cfg.Colors()); err != nil {
		return fmt.Errorf("shift %s: %w", cfg, err)
	}
	in := &sdk.ChangeResourceRecordSetsInput{
		HostedZoneId: aws.String(cfg.Zone),
		ChangeBatch: &types.ChangeBatch{
			Comment: aws.String(fmt.Sprintf("bluegreen: shift %s to %s", cfg, s)),
		},
	}
	for _, color := range cfg.Colors() {
		rs := cfg.recordSet(color, int64(s[color]))
		in.ChangeBatch.Changes = append(in.ChangeBatch.Changes, types.Change{Action: types.ChangeActionUpsert, ResourceRecordSet: &rs})
	}
	out, err := r.API.ChangeResourceRecordSets(ctx, in)
	if err != nil {
		return apiErr(fmt.Errorf("shift %s to %s in hosted zone %s: %w", cfg, s, cfg.Zone, err))
	}
	if out.ChangeInfo == nil || aws.ToString(out.ChangeInfo.Id) == "" {
		return fmt.Errorf("shift %s to %s: Route 53 returned no change ID", cfg, s)
	}
	if err := r.waitInsync(ctx, cfg, aws.ToString(out.ChangeInfo.Id), out.ChangeInfo.Status); err != nil {
		return fmt.Errorf("shift %s to %s: %w", cfg, s, err)
	}
	return nil
}

// ErrNotInsync marks a shift whose change was accepted but not reported
// INSYNC in time. The change may still apply: Route 53 changes cannot be
// cancelled.
var ErrNotInsync = errors.New("change not INSYNC")

// waitInsync polls GetChange every PollInterval until the change is INSYNC,
// giving up after SyncTimeout.
func (r *Router) waitInsync(ctx context.Context, cfg Config, id string, status types.ChangeStatus) error {
	clk := r.clock()
	deadline := clk.Now().Add(cfg.SyncTimeout)
	for status != types.ChangeStatusInsync {
		now := clk.Now()
		if !now.Before(deadline) {
			return fmt.Errorf("%w: change %s still %s after %s; it cannot be cancelled and may still apply: observe again, or raise option %q",
				ErrNotInsync, id, status, cfg.SyncTimeout, SyncTimeoutOption)
		}
		next := now.Add(cfg.PollInterval)
		if next.After(deadline) {
			next = deadline
		}
		if err := clk.SleepUntil(ctx, next); err != nil {
			return fmt.Errorf("wait for change %s (still %s; it cannot be cancelled and may still apply): %w", id, status, err)
		}
		out, err := r.API.GetChange(ctx, &sdk.GetChangeInput{Id: aws.String(id)})
		if err != nil {
			return apiErr(fmt.Errorf("get change %s (it may still apply): %w", id, err))
		}
		if out.ChangeInfo == nil {
			return fmt.Errorf("get change %s: Route 53 returned no change info", id)
		}
		status = out.ChangeInfo.Status
	}
	return nil
}

// recordSet builds color's weighted record set with weight w.
func (c Config) recordSet(color string, w int64) types.ResourceRecordSet {
	rec := c.Records[color]
	rs := types.ResourceRecordSet{
		Name: aws.String(c.Name), Type: types.RRType(c.Type),
		SetIdentifier: aws.String(rec.SetIdentifier), Weight: aws.Int64(w),
	}
	if rec.Alias != nil {
		rs.AliasTarget = &types.AliasTarget{
			DNSName: aws.String(rec.Alias.DNSName), HostedZoneId: aws.String(rec.Alias.HostedZoneID),
			EvaluateTargetHealth: rec.Alias.EvaluateTargetHealth,
		}
		return rs
	}
	rs.TTL = aws.Int64(c.TTL)
	rs.ResourceRecords = []types.ResourceRecord{{Value: aws.String(rec.Value)}}
	return rs
}

func (c Config) setIdentifiers() string {
	var ids []string
	for _, color := range c.Colors() {
		ids = append(ids, fmt.Sprintf("%s=%q", color, c.Records[color].SetIdentifier))
	}
	return strings.Join(ids, ", ")
}

// apiErr marks Route 53's throttling answers transient so that the engine
// retries the step; the SDK has already retried them a few times.
func apiErr(err error) error {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		switch ae.ErrorCode() {
		case "Throttling", "ThrottlingException", "PriorRequestNotComplete":
			return engine.Transient(err)
		}
	}
	return err
}
