package migrate

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/bluegreen/bluegreen/internal/engine"
	"github.com/bluegreen/bluegreen/internal/journal"
	"github.com/bluegreen/bluegreen/internal/plan"
	"github.com/bluegreen/bluegreen/internal/standby"
	"github.com/bluegreen/bluegreen/internal/traffic"
)

func selection(w plan.Workloads) standby.Selection {
	return standby.Selection{Namespaces: w.Namespaces, Kinds: w.Kinds, LabelSelector: w.Selector}
}

func (e Env) standbyPlan(ctx context.Context, w plan.Workloads) ([]string, error) {
	refs, err := standby.Plan(ctx, e.SourceObjects, selection(w))
	if err != nil {
		return nil, fmt.Errorf("%w: workloads: %w", plan.ErrInvalid, err)
	}
	out := make([]string, 0, len(refs))
	for _, r := range refs {
		out = append(out, r.String())
	}
	return out, nil
}

// standbyCopy server-side applies the selected stateless objects into B.
// Its before-state lists which of them B lacked, so the undo deletes only
// what the migration created.
func (e Env) standbyCopy() engine.Action {
	return engine.Action{
		Capture: func(ctx context.Context, x engine.Exec) (any, error) {
			var p plan.StandbyParams
			if err := x.Step.DecodeParams(&p); err != nil {
				return nil, err
			}
			refs, err := standby.Plan(ctx, e.SourceObjects, selection(p.Workloads))
			if err != nil {
				return nil, err
			}
			var missing []standby.ObjectRef
			for _, r := range refs {
				exists, err := e.existsInTarget(ctx, r)
				if err != nil {
					return nil, err
				}
				if !exists {
					missing = append(missing, r)
				}
			}
			return missing, nil
		},
		Do: func(ctx context.Context, x engine.Exec) (any, error) {
			var p plan.StandbyParams
			if err := x.Step.DecodeParams(&p); err != nil {
				return nil, err
			}
			for _, ns := range p.Workloads.Namespaces {
				if err := e.waitNotTerminating(ctx, ns); err != nil {
					return nil, err
				}
			}
			res, err := standby.Copy(ctx, e.SourceObjects, e.TargetObjects, selection(p.Workloads), standby.Options{Logger: e.Log, Mutate: e.greenDNS()})
			if err != nil {
				return nil, fmt.Errorf("copy workloads to %s: %w", e.TargetName, err)
			}
			return res.Applied, nil
		},
		Undo: func(ctx context.Context, x engine.Exec) error {
			var created []standby.ObjectRef
			if err := x.Step.DecodeBefore(&created); err != nil {
				return err
			}
			// Newest first: objects before the namespaces that hold them.
			for i := len(created) - 1; i >= 0; i-- {
				if created[i].Kind == "Namespace" && !e.onlyOurs(ctx, created[i].Name, created) {
					continue
				}
				if err := e.deleteFromTarget(ctx, created[i]); err != nil {
					return err
				}
			}
			return nil
		},
	}
}

// terminatingWait bounds how long the copy waits for a namespace of B
// that is being deleted.
const terminatingWait = 2 * time.Minute

// waitNotTerminating waits until namespace ns of B is not being deleted:
// a rollback deletes the namespaces its copy created, and a new run right
// after it would find them terminating, where nothing can be created.
func (e Env) waitNotTerminating(ctx context.Context, ns string) error {
	gvr := corev1.SchemeGroupVersion.WithResource("namespaces")
	clk := e.clk()
	deadline := clk.Now().Add(terminatingWait)
	for {
		obj, err := e.TargetObjects.Dynamic.Resource(gvr).Get(ctx, ns, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
			return nil
		case err != nil:
			return fmt.Errorf("get namespace %s in %s: %w", ns, e.TargetName, err)
		case obj.GetDeletionTimestamp() == nil:
			return nil
		case !clk.Now().Before(deadline):
			return fmt.Errorf("namespace %s in %s is being deleted and still was after %s (a finalizer holds it?): "+
				"wait until `kubectl --context %s get namespace %s` finds nothing, then resume", ns, e.TargetName, terminatingWait, e.TargetName, ns)
		}
		if err := clk.SleepUntil(ctx, clk.Now().Add(250*time.Millisecond)); err != nil {
			return err
		}
	}
}

// onlyOurs reports whether namespace ns in B holds nothing but what the
// copy created: deleting a namespace deletes everything in it, and what
// was created there since (a dynamically provisioned claim, someone's
// Deployment) is not the run's to delete. When in doubt it keeps the
// namespace: an empty namespace left behind costs nothing.
func (e Env) onlyOurs(ctx context.Context, ns string, created []standby.ObjectRef) bool {
	others, err := standby.Others(ctx, e.Target.Discovery(), e.TargetObjects, ns, created)
	if err != nil {
		e.Log.Warn("keeping namespace: cannot tell what else it holds", "namespace", ns, "cluster", e.TargetName, "error", err)
		return false
	}
	if len(others) > 0 {
		names := make([]string, 0, len(others))
		for _, o := range others {
			names = append(names, o.String())
		}
		e.Log.Warn("keeping namespace: it holds objects this run did not create", "namespace", ns, "cluster", e.TargetName,
			"objects", strings.Join(names, ", "))
		return false
	}
	return true
}

func (e Env) resource(r standby.ObjectRef) (*meta.RESTMapping, error) {
	gvk := r.GroupVersionKind()
	m, err := e.TargetObjects.Mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		return nil, fmt.Errorf("map %s in %s: %w", r, e.TargetName, err)
	}
	return m, nil
}

func (e Env) existsInTarget(ctx context.Context, r standby.ObjectRef) (bool, error) {
	m, err := e.resource(r)
	if err != nil {
		return false, err
	}
	_, err = e.TargetObjects.Dynamic.Resource(m.Resource).Namespace(r.Namespace).Get(ctx, r.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("get %s in %s: %w", r, e.TargetName, err)
	}
	return true, nil
}

func (e Env) deleteFromTarget(ctx context.Context, r standby.ObjectRef) error {
	m, err := e.resource(r)
	if err != nil {
		return err
	}
	err = e.TargetObjects.Dynamic.Resource(m.Resource).Namespace(r.Namespace).Delete(ctx, r.Name, metav1.DeleteOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("delete %s from %s: %w", r, e.TargetName, err)
	}
	return nil
}

// standbyReady waits until every copied Deployment has rolled out in B.
func (e Env) standbyReady() engine.Action {
	return engine.Action{Do: func(ctx context.Context, x engine.Exec) (any, error) {
		var p plan.StandbyParams
		if err := x.Step.DecodeParams(&p); err != nil {
			return nil, err
		}
		timeout := p.Timeout.D()
		if timeout <= 0 {
			timeout = 10 * time.Minute
		}
		return nil, e.waitStandby(ctx, x.Run, timeout)
	}}
}

func (e Env) waitStandby(ctx context.Context, r *journal.Run, timeout time.Duration) error {
	st := r.Step("standby-copy")
	if st == nil || len(st.Output) == 0 {
		return fmt.Errorf("standby-copy recorded no objects: resume the run to copy them again")
	}
	var refs []standby.ObjectRef
	if err := json.Unmarshal(st.Output, &refs); err != nil {
		return fmt.Errorf("decode standby-copy output: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	return standby.WaitReady(ctx, e.clk(), e.TargetObjects, refs)
}

// standbyReadyNow is the checklist's look at the standby: ready now, or
// within a few seconds.
func (e Env) standbyReadyNow(ctx context.Context, r *journal.Run) error {
	return e.waitStandby(ctx, r, 5*time.Second)
}

// greenDNS is the router's edit of B's copies, for routers that carry a
// color's share on copied objects (external-dns annotations); nil when
// the router needs none.
func (e Env) greenDNS() func(*unstructured.Unstructured) error {
	if m, ok := e.Router.(traffic.StandbyMutator); ok {
		return m.MutateStandby(e.Records, string(plan.Green))
	}
	return nil
}
