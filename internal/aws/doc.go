// Package aws owns how bluegreen reaches AWS: the SDK's configuration
// (standard credential chain, optional endpoint override for tests and
// private endpoints, the run's gate on every call) and the SNS client that
// release notifications use. The clients of the cluster scope's APIs live
// in package awscluster, so that a command of another scope does not link
// them.
package aws
