package kube

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/tools/reference"

	"github.com/bluegreen/bluegreen/internal/clock"
)

// kind is an API kind Events go on, and how to read an object of it.
type kind struct {
	kind, apiVersion string
	get              func(ctx context.Context, c kubernetes.Interface, ns, name string) (runtime.Object, error)
}

// kinds maps the lower-case object prefixes used in plans to API kinds,
// and how to read each (for its UID).
var kinds = map[string]kind{
	"deployment": {"Deployment", "apps/v1", func(ctx context.Context, c kubernetes.Interface, ns, name string) (runtime.Object, error) {
		return c.AppsV1().Deployments(ns).Get(ctx, name, metav1.GetOptions{})
	}},
	"service": {"Service", "v1", func(ctx context.Context, c kubernetes.Interface, ns, name string) (runtime.Object, error) {
		return c.CoreV1().Services(ns).Get(ctx, name, metav1.GetOptions{})
	}},
	"horizontalpodautoscaler": {"HorizontalPodAutoscaler", "autoscaling/v2", func(ctx context.Context, c kubernetes.Interface, ns, name string) (runtime.Object, error) {
		return c.AutoscalingV2().HorizontalPodAutoscalers(ns).Get(ctx, name, metav1.GetOptions{})
	}},
	"statefulset": {"StatefulSet", "apps/v1", func(ctx context.Context, c kubernetes.Interface, ns, name string) (runtime.Object, error) {
		return c.AppsV1().StatefulSets(ns).Get(ctx, name, metav1.GetOptions{})
	}},
}

// Recorder records Kubernetes Events on the objects bluegreen changes, so
// that `kubectl describe` and `kubectl get events` show what it did. It is
// client-go's event recording without its background queue: the involved
// object is referenced with its UID (kubectl describe matches on it), and
// client-go's EventCorrelator counts repeats of an Event and aggregates
// floods of similar ones, as every controller's Events are; but each Event
// is written before Event returns, so a command that exits right after
// loses none. Safe for concurrent use.
type Recorder struct {
	c    kubernetes.Interface
	sink record.EventSink
	mu   sync.Mutex
	corr *record.EventCorrelator
	host string
	clk  clock.Clock
	// refs are the objects Events went on, read once: a run puts several
	// Events on each object it changes, and its UID does not change.
	refs map[string]*corev1.ObjectReference
	// lookup, when set, is asked before an object is read.
	lookup RefLookup
}

// RefLookup finds the reference of object name of kind (a Kind, e.g.
// "Deployment") in namespace ns without a request, e.g. in an informer
// cache; ok is false when it does not have it.
type RefLookup func(ctx context.Context, kind, ns, name string) (ref *corev1.ObjectReference, ok bool)

// WithLookup makes the recorder ask l for an object's reference before it
// reads the object (nil: it always reads). It returns r.
func (r *Recorder) WithLookup(l RefLookup) *Recorder {
	r.lookup = l
	return r
}

// NewRecorder returns a Recorder writing through c, its Events stamped by
// clk (nil: the wall clock).
func NewRecorder(c kubernetes.Interface, clk clock.Clock) *Recorder {
	if clk == nil {
		clk = clock.Real{}
	}
	return &Recorder{c: c, sink: &typedcorev1.EventSinkImpl{Interface: c.CoreV1().Events("")},
		corr: record.NewEventCorrelatorWithOptions(record.CorrelatorOptions{Clock: passive{clk}}), host: Self("").Host, clk: clk,
		refs: map[string]*corev1.ObjectReference{}}
}

// reference is the object's reference with its UID, read once; an object
// that does not exist gets one without.
func (r *Recorder) reference(ctx context.Context, k kind, ns, name string) (*corev1.ObjectReference, error) {
	key := k.kind + "/" + ns + "/" + name
	r.mu.Lock()
	ref, ok := r.refs[key]
	r.mu.Unlock()
	if ok {
		return ref, nil
	}
	if r.lookup != nil {
		if ref, ok := r.lookup(ctx, k.kind, ns, name); ok && ref.UID != "" {
			r.mu.Lock()
			r.refs[key] = ref
			r.mu.Unlock()
			return ref, nil
		}
	}
	ref = &corev1.ObjectReference{Kind: k.kind, APIVersion: k.apiVersion, Name: name, Namespace: ns}
	obj, err := k.get(ctx, r.c, ns, name)
	switch {
	case err == nil:
		if full, rerr := reference.GetReference(scheme.Scheme, obj); rerr == nil {
			ref = full
		}
	case apierrors.IsNotFound(err):
		return ref, nil // not kept: it may yet be created
	default:
		return nil, err
	}
	r.mu.Lock()
	r.refs[key] = ref
	r.mu.Unlock()
	return ref, nil
}

// Event records an Event on object ("deployment/shop-green") in namespace
// ns. Reason is CamelCase (e.g. "BlueGreenSwitch"); eventType is Normal or
// Warning. An object that no longer exists gets its Event all the same,
// referenced by name.
func (r *Recorder) Event(ctx context.Context, ns, object, reason, message, eventType string) error {
	prefix, name, ok := strings.Cut(object, "/")
	k, known := kinds[prefix]
	if !ok || !known {
		return fmt.Errorf("event on %q: unknown object kind", object)
	}
	ref, err := r.reference(ctx, k, ns, name)
	if err != nil {
		return fmt.Errorf("record event on %s/%s: read it: %w", ns, object, err)
	}
	now := metav1.NewTime(r.clk.Now())
	ev := &corev1.Event{
		ObjectMeta:     metav1.ObjectMeta{Name: fmt.Sprintf("%v.%x", name, now.UnixNano()), Namespace: ns},
		InvolvedObject: *ref,
		Reason:         reason, Message: message, Type: eventType,
		Source:         corev1.EventSource{Component: "bluegreen", Host: r.host},
		FirstTimestamp: now, LastTimestamp: now, Count: 1,
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	res, err := r.corr.EventCorrelate(ev)
	if err != nil || res.Skip {
		return err // a flood the correlator drops, as client-go's recorder would
	}
	var written *corev1.Event
	if res.Event.Count > 1 {
		written, err = r.sink.Patch(res.Event, res.Patch)
	}
	if res.Event.Count <= 1 || apierrors.IsNotFound(err) {
		res.Event.ResourceVersion = ""
		written, err = r.sink.Create(res.Event)
	}
	if err != nil {
		return fmt.Errorf("record event on %s/%s: %w", ns, object, err)
	}
	r.corr.UpdateState(written)
	return nil
}

// passive lets client-go's correlator read our clock.
type passive struct{ clock.Clock }

func (p passive) Since(t time.Time) time.Duration { return clock.Since(p.Clock, t) }

// Event records one Event on object with a Recorder of its own: for a
// single Event (a forced rollback); a run's Events share one Recorder.
func Event(ctx context.Context, c kubernetes.Interface, ns, object, reason, message, eventType string) error {
	return NewRecorder(c, nil).Event(ctx, ns, object, reason, message, eventType)
}
