package awscluster

import (
	"context"
	"fmt"
	"sync"

	"github.com/aws/smithy-go/middleware"
	"golang.org/x/time/rate"
)

// AWS throttles its APIs per account and region, and everything else in
// the account (external-dns, CI, the console) shares the same quota. The
// clients keep bluegreen's own rate under it, so that fifty hand-off lanes
// working at once slow themselves down instead of tripping throttling
// errors for everyone:
//   - Route 53 allows five requests a second per account, all APIs
//     together: bluegreen takes at most four, in bursts of four.
//   - EC2 gives each API its own bucket (a non-mutating one such as
//     DescribeVolumes holds 100 requests and refills at 20 a second):
//     bluegreen takes half of that, per API, 10 a second in bursts of 50.
//     The hand-off's waits batch their reads (one DescribeVolumes for
//     every waiting lane), so this is seldom reached.
const (
	route53Rate, route53Burst = 4, 4
	ec2Rate, ec2Burst         = 10, 50
)

// limiters are the client-side rate limits of one set of clients.
type limiters struct {
	// EC2 has one limiter per API (operation), as EC2 itself does.
	EC2     *perOperation
	Route53 *rate.Limiter
}

func newLimiters() limiters {
	return limiters{
		EC2:     &perOperation{rate: ec2Rate, burst: ec2Burst, by: map[string]*rate.Limiter{}},
		Route53: rate.NewLimiter(route53Rate, route53Burst),
	}
}

// perOperation is a token bucket per API operation.
type perOperation struct {
	rate  rate.Limit
	burst int
	mu    sync.Mutex
	by    map[string]*rate.Limiter
}

func (p *perOperation) of(op string) *rate.Limiter {
	p.mu.Lock()
	defer p.mu.Unlock()
	l := p.by[op]
	if l == nil {
		l = rate.NewLimiter(p.rate, p.burst)
		p.by[op] = l
	}
	return l
}

// limitWith adds a rate limit to a client's middleware stack: limiter
// returns the bucket for an operation. It runs after the retry middleware,
// so every attempt, retries included, waits for its turn.
func limitWith(limiter func(op string) *rate.Limiter) func(*middleware.Stack) error {
	return func(s *middleware.Stack) error {
		return s.Finalize.Add(middleware.FinalizeMiddlewareFunc("bluegreen/RateLimit",
			func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
				if err := limiter(middleware.GetOperationName(ctx)).Wait(ctx); err != nil {
					return middleware.FinalizeOutput{}, middleware.Metadata{}, fmt.Errorf("wait for the client-side rate limit: %w", err)
				}
				return next.HandleFinalize(ctx, in)
			}), middleware.After)
	}
}
