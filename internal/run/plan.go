package run

import (
	"context"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/kubernetes"

	"github.com/bluegreen/bluegreen/internal/clock"
	"github.com/bluegreen/bluegreen/internal/journal"
	"github.com/bluegreen/bluegreen/internal/plan"
	"github.com/bluegreen/bluegreen/internal/service"
	"github.com/bluegreen/bluegreen/internal/traffic"
)

// PlanDeploy reads the app through c (no write) and plans the release of
// rel, through kubeconfig context kctx.
func PlanDeploy(ctx context.Context, clk clock.Clock, c kubernetes.Interface, kctx string, rel plan.ServiceRelease) (*journal.Run, error) {
	obs, err := service.Observe(ctx, c, rel.Namespace, rel)
	if err != nil {
		return nil, err
	}
	return PlanDeployFrom(clk, kctx, rel, obs)
}

// PlanDeployFrom plans the release of rel from obs, what service.Observe
// read of the app.
func PlanDeployFrom(clk clock.Clock, kctx string, rel plan.ServiceRelease, obs plan.ServiceObserved) (*journal.Run, error) {
	steps, err := plan.ServiceDeploy(obs, rel)
	if err != nil {
		return nil, err
	}
	return New(clk, Planned{Key: ServiceKey(rel.Namespace, rel.App), Operation: "deploy", Context: kctx,
		Spec: rel, Approved: rel.Approval == "auto", Steps: steps})
}

// PlanInit reads the app in namespace ns (no write) and plans its
// adoption into the blue/green layout. An app already in it returns
// plan.ErrAlreadyInitialized.
func PlanInit(ctx context.Context, clk clock.Clock, c kubernetes.Interface, kctx, ns string, o plan.InitOptions) (*journal.Run, error) {
	obs, err := service.ObserveInit(ctx, c, ns, o)
	if err != nil {
		return nil, err
	}
	steps, err := plan.ServiceInit(obs, o)
	if err != nil {
		return nil, err
	}
	rel := plan.ServiceRelease{App: o.App, Namespace: ns, ColorLabel: o.ColorLabel, ActiveService: o.ActiveService,
		PreviewService: o.PreviewService, Approval: "auto"}
	rel.Defaults()
	return New(clk, Planned{Key: ServiceKey(ns, o.App), Operation: "init", Context: kctx, Spec: rel, Approved: true, Steps: steps})
}

// PlanMigration plans migration m from what migrate.Observe read of both
// clusters, through cluster A's kubeconfig context kctx.
func PlanMigration(clk clock.Clock, kctx string, obs plan.MigrationObserved, m plan.Migration) (*journal.Run, error) {
	steps, err := plan.MigrationPlan(obs, m)
	if err != nil {
		return nil, err
	}
	return New(clk, Planned{Key: MigrationKey(m.Name), Operation: "migrate", Context: kctx, Spec: m, Steps: steps})
}

// PlanNamespace plans a namespace-scope release of rel, whose gateway
// section router parsed into target. Its runs and Lease live in the blue
// namespace.
func PlanNamespace(clk clock.Clock, kctx string, obs plan.NamespaceObserved, rel plan.NamespaceRelease, router string, target traffic.Target) (*journal.Run, error) {
	steps, err := plan.NamespaceDeploy(obs, rel, router, target)
	if err != nil {
		return nil, err
	}
	return New(clk, Planned{Key: ProductKey(rel.Namespaces[plan.Blue], rel.Product), Operation: "deploy", Context: kctx, Spec: rel,
		Approved: rel.Approval == "auto", Steps: steps})
}

// PlanNamespaceInit plans the adoption of a product whose production is on
// active now.
func PlanNamespaceInit(clk clock.Clock, kctx string, obs plan.NamespaceObserved, rel plan.NamespaceRelease, active plan.Color, router string, target traffic.Target) (*journal.Run, error) {
	steps, err := plan.NamespaceInit(obs, rel, active, router, target)
	if err != nil {
		return nil, err
	}
	return New(clk, Planned{Key: ProductKey(rel.Namespaces[plan.Blue], rel.Product), Operation: "init", Context: kctx, Spec: rel,
		Approved: true, Steps: steps})
}

// InitManifests returns the layout a planned init would create, to commit
// instead of applying (see service.InitManifests).
func InitManifests(ctx context.Context, c kubernetes.Interface, r *journal.Run) ([]*unstructured.Unstructured, error) {
	return service.InitManifests(ctx, c, r.Steps)
}
