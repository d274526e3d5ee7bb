package clusterscope

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/aws/aws-sdk-go-v2/service/eks"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"

	"github.com/bluegreen/bluegreen/internal/apiscan"
	"github.com/bluegreen/bluegreen/internal/migrate"
	"github.com/bluegreen/bluegreen/internal/plan"
	"github.com/bluegreen/bluegreen/internal/preflight"
	"github.com/bluegreen/bluegreen/internal/traffic"
)

// PreflightInput is what a migration's preflight reads.
type PreflightInput struct {
	Migration plan.Migration
	// Env holds both clusters' clients, AWS, and the router with its
	// targets.
	Env migrate.Env
	// Observed is what migrate.Observe read (the volumes to hand off).
	Observed plan.MigrationObserved
	// SourceConfig reaches cluster A, for the removed-API scan of its
	// live objects.
	SourceConfig *rest.Config
	// TargetContext names cluster B in messages.
	TargetContext string
}

// Preflight runs the runbook's worksheet checks and the
// removed-API scan. It writes nothing; the results say pass, warn or fail
// with a fix each. An error means the input itself is wrong.
func Preflight(ctx context.Context, in PreflightInput) ([]preflight.Result, error) {
	pin := preflight.Input{
		Source:        preflight.Cluster{Name: in.Migration.Source.EKSCluster, Kube: in.Env.Source},
		Target:        preflight.Cluster{Name: in.Migration.Target.EKSCluster, Kube: in.Env.Target},
		AWS:           in.Env.AWS,
		LoadBalancers: in.Migration.Target.LoadBalancers,
	}
	if v, ok := in.Env.Router.(traffic.Verifier); ok {
		pin.Values, pin.Targets = v, in.Env.Records
	}
	if rs, ok := in.Env.Router.(traffic.RecordSetter); ok {
		for _, t := range in.Env.Records {
			set, err := rs.RecordSet(t)
			if err != nil {
				return nil, fmt.Errorf("%w: %w", plan.ErrInvalid, err)
			}
			pin.Records = append(pin.Records, set)
		}
	}
	for _, st := range in.Observed.StatefulSets {
		for _, c := range st.Claims {
			pin.Volumes = append(pin.Volumes, preflight.Volume{PV: c.PV, VolumeID: c.VolumeID, StorageClass: c.StorageClass})
		}
	}
	results := preflight.Run(ctx, pin)
	return append(results, scanAPIs(ctx, in)), nil
}

// scanAPIs looks for APIs that B's Kubernetes version no longer serves,
// in the objects of A that move and in the manifests the spec names.
func scanAPIs(ctx context.Context, in PreflightInput) preflight.Result {
	res := preflight.Result{Name: "removed-apis", Status: preflight.Pass}
	target, err := targetVersion(ctx, in)
	if err != nil {
		res.Status, res.Detail, res.Hint = preflight.Fail, err.Error(), "set target.version in the spec, e.g. \"1.33\""
		return res
	}
	var nss []string
	nss = append(nss, in.Migration.Workloads.Namespaces...)
	for _, st := range in.Migration.StatefulSets {
		if !slices.Contains(nss, st.Namespace) {
			nss = append(nss, st.Namespace)
		}
	}
	var findings []apiscan.Finding
	if len(nss) > 0 {
		dyn, err := dynamic.NewForConfig(in.SourceConfig)
		if err == nil {
			var live []apiscan.Finding
			live, err = apiscan.ScanCluster(ctx, dyn, target, nss)
			findings = append(findings, live...)
		}
		if err != nil {
			res.Status, res.Detail = preflight.Fail, fmt.Sprintf("scan %s: %v", in.Env.SourceName, err)
			return res
		}
	}
	if len(in.Migration.Manifests) > 0 {
		files := map[string][]byte{}
		for _, p := range in.Migration.Manifests {
			data, err := os.ReadFile(p)
			if err != nil {
				res.Status, res.Detail = preflight.Fail, fmt.Sprintf("read manifest %s: %v", p, err)
				return res
			}
			files[filepath.Base(p)] = data
		}
		fs, err := apiscan.ScanManifests(target, files)
		if err != nil {
			res.Status, res.Detail = preflight.Fail, fmt.Sprintf("scan manifests: %v", err)
			return res
		}
		findings = append(findings, fs...)
	}
	if len(findings) == 0 {
		res.Detail = fmt.Sprintf("no object or manifest uses an API removed at or before %s", target)
		return res
	}
	res.Status = preflight.Fail
	res.Detail = fmt.Sprintf("%d objects use APIs removed at or before %s:", len(findings), target)
	for _, f := range findings {
		res.Detail += "\n      " + f.String()
	}
	res.Hint = "rewrite each object with its replacement apiVersion (kubectl convert or your manifests), then apply it again so its last-applied record changes"
	return res
}

// targetVersion is B's Kubernetes version: the spec's, else EKS's, else
// the API server's.
func targetVersion(ctx context.Context, in PreflightInput) (string, error) {
	if v := in.Migration.Target.Version; v != "" {
		return v, nil
	}
	if name := in.Migration.Target.EKSCluster; name != "" {
		out, err := in.Env.AWS.EKS.DescribeCluster(ctx, &eks.DescribeClusterInput{Name: &name})
		if err == nil && out.Cluster != nil && out.Cluster.Version != nil {
			return *out.Cluster.Version, nil
		}
	}
	info, err := in.Env.Target.Discovery().ServerVersion()
	if err != nil {
		return "", fmt.Errorf("read %s's version: %w", in.TargetContext, err)
	}
	if _, err := apiscan.ParseVersion(info.GitVersion); err != nil {
		return "", fmt.Errorf("%s reports version %q: %w", in.TargetContext, info.GitVersion, err)
	}
	return info.GitVersion, nil
}
