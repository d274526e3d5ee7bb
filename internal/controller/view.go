package controller

import (
	"context"
	"errors"
	"slices"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/bluegreen/bluegreen/internal/journal"
	"github.com/bluegreen/bluegreen/internal/plan"
	"github.com/bluegreen/bluegreen/internal/run"
	"github.com/bluegreen/bluegreen/internal/runstore"
	"github.com/bluegreen/bluegreen/internal/service"
)

// view is where a release stands: the color production is on, the image
// it runs, and the app's newest run.
type view struct {
	active      plan.Color
	activeImage string
	last        *journal.Run
}

// cachedView reads a release's view from the informer cache: the active
// Service and Deployment, and the runs' metadata. It sends no request
// except a GET of the newest run when its record changed since this
// process last decoded it. The cache may lag the cluster, so a reconcile
// decides to start a run only on liveView.
func (r *Reconciler) cachedView(ctx context.Context, store *runstore.Store, ns string, rel plan.ServiceRelease) (view, error) {
	var v view
	cluster, err := r.Identity()
	if err != nil {
		return v, err
	}
	// Runs first, as run.ServiceStatus reads them (see there).
	var runs metav1.PartialObjectMetadataList
	runs.SetGroupVersionKind(runstore.GVR.GroupVersion().WithKind("BlueGreenRunList"))
	if err := r.Client.List(ctx, &runs, client.InNamespace(ns), client.MatchingLabels(runstore.Selector(rel.App, journal.ScopeService, cluster))); err != nil {
		return v, err
	}
	if len(runs.Items) > 0 {
		newest := slices.MaxFunc(runs.Items, func(a, b metav1.PartialObjectMetadata) int { return strings.Compare(a.Name, b.Name) })
		if v.last, err = r.record(ctx, store, types.NamespacedName{Namespace: ns, Name: rel.App}, newest.Name, newest.ResourceVersion); err != nil {
			return v, err
		}
	}
	var svc corev1.Service
	switch err := r.Client.Get(ctx, types.NamespacedName{Namespace: ns, Name: rel.ActiveService}, &svc); {
	case apierrors.IsNotFound(err):
		return v, nil
	case err != nil:
		return v, err
	}
	v.active = plan.Color(svc.Spec.Selector[rel.ColorLabel])
	if !v.active.Valid() {
		return v, nil
	}
	var d appsv1.Deployment
	switch err := r.Client.Get(ctx, types.NamespacedName{Namespace: ns, Name: plan.DeploymentName(rel.App, v.active)}, &d); {
	case apierrors.IsNotFound(err):
		return v, nil
	case err != nil:
		return v, err
	}
	v.activeImage = containerImage(&d)
	return v, nil
}

// liveView reads a release's view from the API server: the newest run,
// then (runs first, as run.ServiceStatus reads them, for the same reason)
// what the planner needs of the app, from which the active color and its
// image are taken. A new run is planned from the same reads.
func (r *Reconciler) liveView(ctx context.Context, store journal.Store, ns string, rel plan.ServiceRelease) (view, plan.ServiceObserved, error) {
	var v view
	var err error
	if v.last, err = run.Last(ctx, store, r.Log, run.ServiceKey(ns, rel.App).Filter(r.Context)); err != nil {
		return v, plan.ServiceObserved{}, err
	}
	obs, err := service.ObserveIn(ctx, r.Kube, ns, rel)
	if err != nil || obs.Active == nil {
		return v, obs, err
	}
	if v.active = plan.Color(obs.Active.Selector[rel.ColorLabel]); !v.active.Valid() {
		return v, obs, nil
	}
	if d := obs.Deployments[v.active]; d != nil && len(d.Containers) > 0 {
		v.activeImage = d.Containers[0].Image
	}
	return v, obs, nil
}

// containerImage is the image of a Deployment's first container, as
// run.ServiceStatus reports it.
func containerImage(d *appsv1.Deployment) string {
	if len(d.Spec.Template.Spec.Containers) == 0 {
		return ""
	}
	return d.Spec.Template.Spec.Containers[0].Image
}

// decoded is a release's newest run record as this process last read it.
type decoded struct {
	resourceVersion string
	run             *journal.Run
}

// record returns run id, the newest of release rel, at resourceVersion rv:
// as this process read it at that version, else read again (and kept). A
// cache that lags shows an older version than the one kept: then the run
// is read, and the newer record returned. One record is kept a release.
func (r *Reconciler) record(ctx context.Context, store *runstore.Store, rel types.NamespacedName, id, rv string) (*journal.Run, error) {
	r.mu.Lock()
	d, ok := r.records[rel]
	r.mu.Unlock()
	if ok && d.run.ID == id && d.resourceVersion == rv {
		return d.run, nil
	}
	rn, err := store.Get(ctx, id)
	if errors.Is(err, journal.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if v := store.Version(id); v != "" {
		r.mu.Lock()
		r.records[rel] = decoded{resourceVersion: v, run: rn}
		r.mu.Unlock()
	}
	return rn, nil
}
