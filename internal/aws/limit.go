package aws

import (
	"context"
	"fmt"

	"github.com/aws/smithy-go/middleware"
)

// gateWith fails every attempt unsent while gate answers an error. It is
// the last Finalize middleware, after the retries and the rate limit: an
// attempt that was waiting for either when the gate closed is stopped too.
func gateWith(gate func() error) func(*middleware.Stack) error {
	return func(s *middleware.Stack) error {
		return s.Finalize.Add(middleware.FinalizeMiddlewareFunc("bluegreen/Gate",
			func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
				if err := gate(); err != nil {
					return middleware.FinalizeOutput{}, middleware.Metadata{}, fmt.Errorf("%s not sent: %w", middleware.GetOperationName(ctx), err)
				}
				return next.HandleFinalize(ctx, in)
			}), middleware.After)
	}
}
