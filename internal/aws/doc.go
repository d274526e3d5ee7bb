// Package aws owns bluegreen's view of AWS: narrow interfaces holding only
// the calls the tool makes, satisfied by the real aws-sdk-go-v2 clients, and
// how those clients are built (standard credential chain, optional endpoint
// override for tests and private endpoints).
package aws
