package migrate

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/bluegreen/bluegreen/internal/clock"
)

// targetHealthCheck is the name the built-in gate's result is journaled
// under.
const targetHealthCheck = "target-health"

// targetHealthWait is how long a shift waits by default for B's targets to be
// healthy: a target that just failed a health check needs a few intervals
// (10–30 s each) to pass again.
const targetHealthWait = 2 * time.Minute

// targetHealth is the runbook's "target groups healthy" check, built into
// every shift: each target group behind B's load balancers
// (target.loadBalancers) must have at least one healthy target and none
// unhealthy. It waits up to targetHealthWait for that and otherwise fails
// naming each group and target that is not healthy. With no load
// balancers named it does nothing and returns nil.
func (e Env) targetHealth(ctx context.Context) (*CheckResult, error) {
	if len(e.TargetLoadBalancers) == 0 {
		return nil, nil
	}
	wait := e.TargetHealthWait
	if wait <= 0 {
		wait = targetHealthWait
	}
	var last []string
	err := clock.Poll(ctx, e.clk(), min(time.Second, wait/4), wait, func(ctx context.Context) (bool, error) {
		bad, err := e.unhealthyTargets(ctx)
		if err != nil {
			return false, err
		}
		last = bad
		return len(bad) == 0, nil
	})
	if err != nil {
		detail := strings.Join(last, "; ")
		if detail == "" {
			detail = err.Error()
		}
		return &CheckResult{Name: targetHealthCheck, Message: detail},
			fmt.Errorf("%w: %s: %s (after %s)", ErrChecksFailed, targetHealthCheck, detail, wait)
	}
	return &CheckResult{Name: targetHealthCheck, Passed: true,
		Message: "every target group of " + strings.Join(e.TargetLoadBalancers, ", ") + " healthy"}, nil
}

// unhealthyTargets reads the target groups of B's load balancers and
// describes what is not healthy in them.
func (e Env) unhealthyTargets(ctx context.Context) ([]string, error) {
	api := e.AWS.ELBv2
	lbs, err := api.DescribeLoadBalancers(ctx, &elbv2.DescribeLoadBalancersInput{Names: e.TargetLoadBalancers})
	if err != nil {
		return nil, fmt.Errorf("describe load balancers %s: %w", strings.Join(e.TargetLoadBalancers, ", "), err)
	}
	var bad []string
	for _, lb := range lbs.LoadBalancers {
		name := aws.ToString(lb.LoadBalancerName)
		tgs, err := api.DescribeTargetGroups(ctx, &elbv2.DescribeTargetGroupsInput{LoadBalancerArn: lb.LoadBalancerArn})
		if err != nil {
			return nil, fmt.Errorf("describe target groups of %s: %w", name, err)
		}
		if len(tgs.TargetGroups) == 0 {
			bad = append(bad, "load balancer "+name+" has no target group")
		}
		for _, tg := range tgs.TargetGroups {
			th, err := api.DescribeTargetHealth(ctx, &elbv2.DescribeTargetHealthInput{TargetGroupArn: tg.TargetGroupArn})
			if err != nil {
				return nil, fmt.Errorf("describe target health of %s: %w", aws.ToString(tg.TargetGroupName), err)
			}
			bad = append(bad, groupProblems(name, aws.ToString(tg.TargetGroupName), th.TargetHealthDescriptions)...)
		}
	}
	slices.Sort(bad)
	return bad, nil
}

// groupProblems says what keeps one target group from being healthy: no
// healthy target, or any target unhealthy.
func groupProblems(lb, group string, targets []elbtypes.TargetHealthDescription) []string {
	var out []string
	healthy := 0
	for _, t := range targets {
		if t.TargetHealth == nil || t.Target == nil {
			continue
		}
		switch t.TargetHealth.State {
		case elbtypes.TargetHealthStateEnumHealthy:
			healthy++
		case elbtypes.TargetHealthStateEnumUnhealthy, elbtypes.TargetHealthStateEnumUnavailable:
			out = append(out, fmt.Sprintf("target %s of %s (%s) is %s", aws.ToString(t.Target.Id), group, lb, t.TargetHealth.State))
		}
	}
	if healthy == 0 {
		out = append(out, fmt.Sprintf("target group %s of %s has no healthy target (%d registered)", group, lb, len(targets)))
	}
	return out
}
