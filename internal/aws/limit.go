package aws

import (
	"context"
	"fmt"

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
//   - EC2 gives each non-mutating API a bucket of 100 requests refilled at
//     20 a second: bluegreen takes at most 20 a second over all its EC2
//     calls, in bursts of 50. The hand-off's waits batch their reads
//     (one DescribeVolumes for every waiting lane), so this is seldom
//     reached.
const (
	route53Rate, route53Burst = 4, 4
	ec2Rate, ec2Burst         = 20, 50
)

// limiters are the client-side rate limits of one set of clients.
type limiters struct {
	EC2, Route53 *rate.Limiter
}

func newLimiters() limiters {
	return limiters{
		EC2:     rate.NewLimiter(ec2Rate, ec2Burst),
		Route53: rate.NewLimiter(route53Rate, route53Burst),
	}
}

// limitWith adds l to a client's middleware stack. It runs after the retry
// middleware, so every attempt, retries included, waits for its turn.
func limitWith(l *rate.Limiter) func(*middleware.Stack) error {
	return func(s *middleware.Stack) error {
		return s.Finalize.Add(middleware.FinalizeMiddlewareFunc("bluegreen/RateLimit",
			func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
				if err := l.Wait(ctx); err != nil {
					return middleware.FinalizeOutput{}, middleware.Metadata{}, fmt.Errorf("wait for the client-side rate limit: %w", err)
				}
				return next.HandleFinalize(ctx, in)
			}), middleware.After)
	}
}
