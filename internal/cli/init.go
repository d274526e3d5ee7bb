package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"sigs.k8s.io/yaml"

	"github.com/bluegreen/bluegreen/internal/plan"
	"github.com/bluegreen/bluegreen/internal/run"
)

func newInitCmd(g *Global) *cobra.Command {
	var o plan.InitOptions
	var dryRun, allowGitOps bool
	var emit string
	cmd := &cobra.Command{
		Use:   "init APP",
		Short: "Turn an existing Deployment and Service into the blue/green layout without dropping a request",
		Long: `init copies the app's Deployment into APP-blue (same replicas, pods labelled
track=blue) and waits until it is Ready while the Service still selects both,
creates APP-green at 0 replicas and the preview Service, narrows the Service
to the blue pods, then scales the original Deployment to 0. Running it again
on an app already in the layout changes nothing.`,
		Example: `  bluegreen init shop -n prod
  bluegreen init shop -n prod --deployment shop-web --service shop --dry-run`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.App = args[0]
			if o.Deployment == "" {
				o.Deployment = o.App
			}
			if o.ActiveService == "" {
				o.ActiveService = o.App
			}
			if o.PreviewService == "" {
				o.PreviewService = o.App + "-preview"
			}
			if emit != "" {
				return g.emitInit(cmd.Context(), o, emit)
			}
			return g.init(cmd.Context(), o, dryRun, allowGitOps)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&o.Deployment, "deployment", "", "the Deployment that runs the app today (default APP)")
	fl.StringVar(&o.ActiveService, "service", "", "the Service that receives its traffic; becomes the active Service (default APP)")
	fl.StringVar(&o.PreviewService, "preview-service", "", "preview Service to create (default APP-preview)")
	fl.StringVar(&o.ColorLabel, "color-label", "track", "pod label key that holds the color")
	dryRunVar(fl, &dryRun, "print the steps and every change they would make, and make none", noServerInit)
	fl.StringVar(&emit, "emit-manifests", "", "write the blue/green layout as YAML files into this folder, to commit to a GitOps repository, and change nothing in the cluster")
	fl.BoolVar(&allowGitOps, "allow-gitops-owned", false, "adopt the app even though Argo CD, Flux or Helm manages its Deployment or Service (configure it to leave the selector alone first)")
	return cmd
}

func (g *Global) init(ctx context.Context, o plan.InitOptions, dryRun, allowGitOps bool) error {
	s, err := g.session(ctx)
	if err != nil {
		return err
	}
	ns := s.clients.Namespace
	if err := run.CheckGitOps(ctx, s.clients.Kube, g.log, ns, []string{o.ActiveService}, []string{o.Deployment}, allowGitOps); err != nil {
		return err
	}
	r, err := run.PlanInit(ctx, g.clock, s.clients.Kube, s.clients.Context, ns, o)
	if errors.Is(err, plan.ErrAlreadyInitialized) {
		g.printf("%s/%s already has the blue/green layout; nothing to do.\n", ns, o.App)
		return nil
	}
	if err != nil {
		return err
	}
	if dryRun && g.structured() {
		// As kubectl create --dry-run=client -o yaml: the objects.
		objs, err := run.InitManifests(ctx, s.clients.Kube, r)
		if err != nil {
			return err
		}
		return g.emitObjects(objs)
	}
	return s.start(ctx, r, dryRun)
}

// emitInit writes the layout init would create as one YAML file per
// object, and changes nothing in the cluster.
func (g *Global) emitInit(ctx context.Context, o plan.InitOptions, dir string) error {
	s, err := g.session(ctx)
	if err != nil {
		return err
	}
	ns := s.clients.Namespace
	r, err := run.PlanInit(ctx, g.clock, s.clients.Kube, s.clients.Context, ns, o)
	if errors.Is(err, plan.ErrAlreadyInitialized) {
		g.printf("%s/%s already has the blue/green layout; nothing to write.\n", ns, o.App)
		return nil
	}
	if err != nil {
		return err
	}
	objs, err := run.InitManifests(ctx, s.clients.Kube, r)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Errorf("%w: --emit-manifests %s: %w", plan.ErrInvalid, dir, err)
	}
	for _, u := range objs {
		data, err := yaml.Marshal(u.Object)
		if err != nil {
			return fmt.Errorf("encode %s %s: %w", u.GetKind(), u.GetName(), err)
		}
		path := filepath.Join(dir, strings.ToLower(u.GetKind())+"-"+u.GetName()+".yaml")
		if err := os.WriteFile(path, data, 0o644); err != nil { //nolint:gosec // manifests for a repository, not secrets
			return fmt.Errorf("write %s: %w", path, err)
		}
		g.printf("wrote %s\n", path)
	}
	g.printf("Apply or commit them; then scale %s/%s to 0 (it keeps running until then), and point your tool at %s.\n",
		ns, o.Deployment, plan.DeploymentName(o.App, plan.Blue))
	return nil
}
