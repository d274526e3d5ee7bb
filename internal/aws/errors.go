package aws

import (
	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
)

// Throttled reports whether err is AWS refusing a call for the account's
// request rate (RequestLimitExceeded, Throttling, SnapshotCreationPerVolume-
// RateExceeded, …), after the SDK's own retries gave up. Such a call did
// not happen and may simply be made again a little later; every other
// AWS error is an answer about the request itself.
func Throttled(err error) bool {
	if err == nil {
		return false
	}
	codes := retry.IsErrorThrottles(append([]retry.IsErrorThrottle{
		retry.ThrottleErrorCode{Codes: map[string]struct{}{"SnapshotCreationPerVolumeRateExceeded": {}}},
	}, retry.DefaultThrottles...))
	return codes.IsErrorThrottle(err) == sdkaws.TrueTernary
}
