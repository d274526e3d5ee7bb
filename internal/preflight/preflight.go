package preflight

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	ekstypes "github.com/aws/aws-sdk-go-v2/service/eks/types"
	"github.com/aws/smithy-go"
	"k8s.io/client-go/kubernetes"

	"github.com/bluegreen/bluegreen/internal/awscluster"
	"github.com/bluegreen/bluegreen/internal/traffic"
)

// Status is the outcome of one check.
type Status string

// The statuses a check can end in. Warn marks something a person should
// look at that does not by itself break the migration.
const (
	Pass Status = "pass"
	Warn Status = "warn"
	Fail Status = "fail"
)

// DefaultMaxTTL is the highest record TTL, in seconds, that record-ttl
// accepts when Input.MaxTTL is 0.
const DefaultMaxTTL = 60

// Result is the outcome of one check.
type Result struct {
	// Name is the check's stable kebab-case name, e.g. "same-vpc".
	Name string `json:"name"`
	// Status is pass, warn or fail.
	Status Status `json:"status"`
	// Detail says what the check saw: IDs, versions, TTLs.
	Detail string `json:"detail"`
	// Hint says how to fix a warning or failure; empty on pass.
	Hint string `json:"hint,omitempty"`
}

// Cluster is one side of the migration.
type Cluster struct {
	// Name is the EKS cluster name.
	Name string
	// Kube is a client for the cluster's Kubernetes API.
	Kube kubernetes.Interface
}

// Record is a weighted record whose record sets move traffic; routers
// that write weighted record sets describe their targets this way.
type Record = traffic.RecordSet

// Volume is an EBS volume to hand off from A to B.
type Volume struct {
	// PV is the PersistentVolume's name in A.
	PV string
	// VolumeID is the EBS volume ID; the CSI form "vol-…" and the in-tree
	// form "aws://us-east-1a/vol-…" are both accepted.
	VolumeID string
	// StorageClass is the storage class the static PV gets in B.
	StorageClass string
}

// Input is what the checks read.
type Input struct {
	// Source is cluster A (blue), Target cluster B (green).
	Source, Target Cluster
	// AWS holds the AWS clients, all for the clusters' region.
	AWS *awscluster.Clients
	// Records are the records whose weights the migration shifts.
	Records []Record
	// Values compares the live record sets of Targets with the values the
	// shifts would write (the router, when it writes more than weights).
	Values traffic.Verifier
	// Targets are the router's targets, one per weighted record.
	Targets []traffic.Target
	// Volumes are the volumes handed off from A to B.
	Volumes []Volume
	// LoadBalancers are the names of B's load balancers whose subnets must
	// reach B's nodes; when empty, security-groups checks B's cluster
	// subnets instead.
	LoadBalancers []string
	// MaxTTL is the highest TTL in seconds record-ttl accepts; 0 means
	// DefaultMaxTTL.
	MaxTTL int64
}

// check is one named item of the worksheet.
type check struct {
	name string
	run  func(ctx context.Context, p *probe) Result
}

// checks is the worksheet, in the order Run reports it.
var checks = []check{
	{"same-vpc", checkSameVPC},
	{"oidc-provider", checkOIDCProvider},
	{"lb-controller", checkLBController},
	{"ebs-csi-version", checkEBSCSIVersion},
	{"storage-class", checkStorageClass},
	{"record-ttl", checkRecordTTL},
	{"record-values", checkRecordValues},
	{"security-groups", checkSecurityGroups},
	{"volume-zones", checkVolumeZones},
}

// Names returns the names of the checks in the order Run reports them.
func Names() []string {
	names := make([]string, len(checks))
	for i, c := range checks {
		names[i] = c.name
	}
	return names
}

// Run runs every check against in and returns one result per check, in
// the order of Names. A check that cannot reach an API fails with the
// API's error; it does not stop the others.
func Run(ctx context.Context, in Input) []Result {
	if in.MaxTTL == 0 {
		in.MaxTTL = DefaultMaxTTL
	}
	p := &probe{in: in, clusters: map[string]describedCluster{}}
	results := make([]Result, 0, len(checks))
	for _, c := range checks {
		r := runOne(ctx, c, p)
		r.Name = c.name
		results = append(results, r)
	}
	return results
}

// runOne runs c, turning a panic into a failed result so that one broken
// check cannot hide the others' results.
func runOne(ctx context.Context, c check, p *probe) (r Result) {
	defer func() {
		if v := recover(); v != nil {
			r = Result{Status: Fail, Detail: fmt.Sprintf("check %s panicked: %v", c.name, v),
				Hint: "this is a bug in bluegreen; report it with this stack:\n" + string(debug.Stack())}
		}
	}()
	return c.run(ctx, p)
}

// Failed reports whether any result failed.
func Failed(rs []Result) bool {
	for _, r := range rs {
		if r.Status == Fail {
			return true
		}
	}
	return false
}

// probe carries the input of one Run and memoizes what several checks
// read (the two DescribeCluster calls).
type probe struct {
	in       Input
	clusters map[string]describedCluster
}

// eksCluster is an EKS cluster as DescribeCluster reports it.
type eksCluster = ekstypes.Cluster

type describedCluster struct {
	c   *eksCluster
	err error
}

// cluster describes the named EKS cluster once per Run.
func (p *probe) cluster(ctx context.Context, name string) (*ekstypes.Cluster, error) {
	if d, ok := p.clusters[name]; ok {
		return d.c, d.err
	}
	var d describedCluster
	switch {
	case name == "":
		d.err = &missingInput{what: "no EKS cluster name given", hint: "set the EKS cluster name of both clusters (eksCluster in the migration spec)"}
	case p.in.AWS == nil || p.in.AWS.EKS == nil:
		d.err = errNoClient("EKS")
	default:
		out, err := p.in.AWS.EKS.DescribeCluster(ctx, &eks.DescribeClusterInput{Name: aws.String(name)})
		switch {
		case err != nil:
			d.err = apiError("eks:DescribeCluster", name, err)
		case out.Cluster == nil:
			d.err = fmt.Errorf("eks:DescribeCluster %s: empty answer", name)
		default:
			d.c = out.Cluster
		}
	}
	p.clusters[name] = d
	return d.c, d.err
}

// missingInput is an Input that lacks what a check needs.
type missingInput struct{ what, hint string }

func (e *missingInput) Error() string { return e.what }

func errNoClient(api string) error {
	return &missingInput{what: "no " + api + " client configured", hint: "give preflight the AWS clients and both clusters' Kubernetes clients"}
}

// callError is an AWS call that failed; its text names the call, the
// object and the API's error code and message, without the SDK's request
// IDs and retry noise.
type callError struct {
	call, object string
	err          error
}

func (e *callError) Error() string {
	var api smithy.APIError
	if errors.As(e.err, &api) {
		return fmt.Sprintf("%s %s: %s: %s", e.call, e.object, api.ErrorCode(), api.ErrorMessage())
	}
	return fmt.Sprintf("%s %s: %v", e.call, e.object, e.err)
}

func (e *callError) Unwrap() error { return e.err }

func apiError(call, object string, err error) error {
	return &callError{call: call, object: object, err: err}
}

// errorResult is the failed result of a check that could not get what it
// needed: the detail is the error, the hint names the likely fix.
func errorResult(err error) Result {
	hint := "fix the cause above and run preflight again"
	var ce *callError
	var api smithy.APIError
	var mi *missingInput
	switch {
	case errors.As(err, &mi):
		hint = mi.hint
	case errors.As(err, &ce) && errors.As(err, &api) && isAccessDenied(api.ErrorCode()):
		hint = fmt.Sprintf("allow %s for the AWS identity bluegreen runs as", ce.call)
	case errors.As(err, &ce) && errors.As(err, &api) && ce.call == "eks:DescribeCluster" && api.ErrorCode() == "ResourceNotFoundException":
		hint = "check the EKS cluster name (eksCluster in the migration spec) and the region"
	case errors.As(err, &ce):
		hint = fmt.Sprintf("check the AWS credentials, region and endpoint; %s must succeed for this check", ce.call)
	}
	return Result{Status: Fail, Detail: err.Error(), Hint: hint}
}

func isAccessDenied(code string) bool {
	return strings.Contains(code, "AccessDenied") || code == "UnauthorizedOperation" || code == "UnauthorizedException"
}

// kubeError is the failed result of a Kubernetes read in the named side.
func kubeError(side, what string, err error) Result {
	return Result{Status: Fail, Detail: fmt.Sprintf("%s in %s: %v", what, side, err),
		Hint: fmt.Sprintf("check the kubeconfig context of %s and that it may %s", side, what)}
}

// side names a cluster in details: "A (blue-eks)".
func side(letter string, c Cluster) string {
	if c.Name == "" {
		return letter
	}
	return letter + " (" + c.Name + ")"
}
