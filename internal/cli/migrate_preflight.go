package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/aws/aws-sdk-go-v2/service/eks"
	"k8s.io/client-go/dynamic"

	"github.com/bluegreen/bluegreen/internal/apiscan"
	"github.com/bluegreen/bluegreen/internal/plan"
	"github.com/bluegreen/bluegreen/internal/preflight"
	"github.com/bluegreen/bluegreen/internal/traffic"
)

// ErrPreflight means a preflight check failed; nothing was changed.
var ErrPreflight = errors.New("preflight failed")

// preflight runs the worksheet checks and the removed-API scan, prints
// them, and fails if any check failed. It writes nothing.
func (s *migrateSession) preflight(ctx context.Context, obs plan.MigrationObserved, standalone bool) error {
	in := preflight.Input{
		Source:        preflight.Cluster{Name: s.m.Source.EKSCluster, Kube: s.src.Kube},
		Target:        preflight.Cluster{Name: s.m.Target.EKSCluster, Kube: s.dst.Kube},
		AWS:           s.aws,
		LoadBalancers: s.m.Target.LoadBalancers,
	}
	if v, ok := s.env.Router.(traffic.Verifier); ok {
		in.Values, in.Targets = v, s.env.Records
	}
	if rs, ok := s.env.Router.(traffic.RecordSetter); ok {
		for _, t := range s.env.Records {
			set, err := rs.RecordSet(t)
			if err != nil {
				return fmt.Errorf("%w: %w", plan.ErrInvalid, err)
			}
			in.Records = append(in.Records, set)
		}
	}
	for _, st := range obs.StatefulSets {
		for _, c := range st.Claims {
			in.Volumes = append(in.Volumes, preflight.Volume{PV: c.PV, VolumeID: c.VolumeID, StorageClass: c.StorageClass})
		}
	}
	results := preflight.Run(ctx, in)
	results = append(results, s.scanAPIs(ctx))
	if s.g.Output == "json" && standalone {
		enc := json.NewEncoder(s.g.out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(results); err != nil {
			return err
		}
	} else {
		s.g.printf("Preflight: %s → %s\n", s.src.Context, s.dst.Context)
		for _, r := range results {
			mark := map[preflight.Status]string{preflight.Pass: "✓", preflight.Warn: "!", preflight.Fail: "✗"}[r.Status]
			s.g.printf("  %s %-16s %s\n", mark, r.Name, r.Detail)
			if r.Status != preflight.Pass && r.Hint != "" {
				s.g.printf("    fix: %s\n", r.Hint)
			}
		}
	}
	if preflight.Failed(results) {
		var failed []string
		for _, r := range results {
			if r.Status == preflight.Fail {
				failed = append(failed, r.Name)
			}
		}
		return fmt.Errorf("%w: %v; nothing was changed. Fix them and run again (apply --skip-preflight runs anyway)", ErrPreflight, failed)
	}
	return nil
}

// scanAPIs looks for APIs that B's Kubernetes version no longer serves,
// in the objects of A that move and in the manifests the spec names.
func (s *migrateSession) scanAPIs(ctx context.Context) preflight.Result {
	res := preflight.Result{Name: "removed-apis", Status: preflight.Pass}
	target, err := s.targetVersion(ctx)
	if err != nil {
		res.Status, res.Detail, res.Hint = preflight.Fail, err.Error(), "set target.version in the spec, e.g. \"1.33\""
		return res
	}
	var nss []string
	nss = append(nss, s.m.Workloads.Namespaces...)
	for _, st := range s.m.StatefulSets {
		if !slices.Contains(nss, st.Namespace) {
			nss = append(nss, st.Namespace)
		}
	}
	var findings []apiscan.Finding
	if len(nss) > 0 {
		dyn, err := dynamic.NewForConfig(s.src.Config)
		if err == nil {
			var live []apiscan.Finding
			live, err = apiscan.ScanCluster(ctx, dyn, target, nss)
			findings = append(findings, live...)
		}
		if err != nil {
			res.Status, res.Detail = preflight.Fail, fmt.Sprintf("scan %s: %v", s.src.Context, err)
			return res
		}
	}
	if len(s.m.Manifests) > 0 {
		files := map[string][]byte{}
		for _, p := range s.m.Manifests {
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
func (s *migrateSession) targetVersion(ctx context.Context) (string, error) {
	if v := s.m.Target.Version; v != "" {
		return v, nil
	}
	if name := s.m.Target.EKSCluster; name != "" {
		out, err := s.aws.EKS.DescribeCluster(ctx, &eks.DescribeClusterInput{Name: &name})
		if err == nil && out.Cluster != nil && out.Cluster.Version != nil {
			return *out.Cluster.Version, nil
		}
	}
	info, err := s.dst.Kube.Discovery().ServerVersion()
	if err != nil {
		return "", fmt.Errorf("read %s's version: %w", s.dst.Context, err)
	}
	if _, err := apiscan.ParseVersion(info.GitVersion); err != nil {
		return "", fmt.Errorf("%s reports version %q: %w", s.dst.Context, info.GitVersion, err)
	}
	return info.GitVersion, nil
}
