package controller

import (
	"context"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/bluegreen/bluegreen/api/v1alpha1"
	"github.com/bluegreen/bluegreen/internal/engine"
	"github.com/bluegreen/bluegreen/internal/plan"
	"github.com/bluegreen/bluegreen/internal/redact"
)

// releaseEvent is the Event a run's transition puts on its release, for
// `kubectl describe bluegreenrelease` and `kubectl get events`: when the
// run starts, switches production, pauses, waits, and how it ends. The
// steps' own Events go on the objects they change.
type releaseEvent struct {
	typ, reason, action string
}

var releaseEvents = map[engine.EventKind]releaseEvent{
	engine.RunRunning:     {corev1.EventTypeNormal, "RunStarted", "Release"},
	engine.RunPaused:      {corev1.EventTypeNormal, "RunPaused", "Release"},
	engine.RunWaiting:     {corev1.EventTypeNormal, "RunWaiting", "Release"},
	engine.RunSucceeded:   {corev1.EventTypeNormal, "RunSucceeded", "Release"},
	engine.RunRollingBack: {corev1.EventTypeWarning, "RollingBack", "Rollback"},
	engine.RunRolledBack:  {corev1.EventTypeWarning, "RolledBack", "Rollback"},
	engine.RunAborted:     {corev1.EventTypeNormal, "RunAborted", "Abort"},
	engine.RunFailed:      {corev1.EventTypeWarning, "RunFailed", "Release"},
}

// recordOn puts ev's Event, if it has one, on release obj. Notes pass
// through redact: a reason may quote a check's output.
func recordOn(rec events.EventRecorder, obj *v1alpha1.BlueGreenRelease, ev engine.Event) {
	if rec == nil || ev.Run == nil {
		return
	}
	if ev.Kind == engine.StepDone && ev.Step != nil && ev.Step.Kind == plan.KindSwitch {
		rec.Eventf(obj, nil, corev1.EventTypeNormal, "Switched", "Switch", "run %s switched production: %s", ev.Run.ID, redact.Text(ev.Step.Description))
		return
	}
	e, ok := releaseEvents[ev.Kind]
	if !ok {
		return
	}
	note := "run " + ev.Run.ID + " (" + ev.Run.Operation + " of " + imageOf(ev.Run) + ") is " + string(ev.Run.State)
	if ev.Run.Reason != "" {
		note += ": " + redact.Text(ev.Run.Reason)
	}
	rec.Eventf(obj, nil, e.typ, e.reason, e.action, "%s", note)
}

// cachedRef finds a Deployment or Service the runs put Events on in the
// informer cache, which holds both: the UID an Event references costs no
// request then. Objects the cache lacks (yet) are read by the recorder.
func (r *Reconciler) cachedRef(ctx context.Context, kind, ns, name string) (*corev1.ObjectReference, bool) {
	var obj client.Object
	apiVersion := "v1"
	switch kind {
	case "Deployment":
		obj, apiVersion = &appsv1.Deployment{}, "apps/v1"
	case "Service":
		obj = &corev1.Service{}
	default:
		return nil, false
	}
	if err := r.Client.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, obj); err != nil {
		return nil, false
	}
	return &corev1.ObjectReference{Kind: kind, APIVersion: apiVersion, Namespace: ns, Name: name, UID: obj.GetUID(),
		ResourceVersion: obj.GetResourceVersion()}, true
}
