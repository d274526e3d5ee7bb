package volume

import (
	"context"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"

	"github.com/bluegreen/bluegreen/internal/clock"
	"github.com/bluegreen/bluegreen/internal/kube"
	"github.com/bluegreen/bluegreen/internal/plan"
)

// scale sets the StatefulSet's replicas in one cluster and waits: for 0,
// until its pods are gone (so nothing writes to the volumes any more); for
// more, until that many replicas are Ready.
func (e Env) scale(ctx context.Context, c kubernetes.Interface, cluster string, p plan.HandoffParams, n int32) error {
	patch := fmt.Appendf(nil, `{"spec":{"replicas":%d}}`, n)
	sts, err := c.AppsV1().StatefulSets(p.Namespace).Patch(ctx, p.Name, types.MergePatchType, patch, metav1.PatchOptions{})
	if err != nil {
		return fmt.Errorf("scale statefulset %s/%s to %d in %s: %w", p.Namespace, p.Name, n, cluster, kerr(err))
	}
	sel := metav1.FormatLabelSelector(sts.Spec.Selector)
	watches := []kube.Watcher{kube.Named(c.AppsV1().StatefulSets(p.Namespace).Watch, p.Name)}
	if n == 0 {
		watches = []kube.Watcher{kube.Selected(c.CoreV1().Pods(p.Namespace).Watch, sel)}
	}
	err = kube.WaitWatched(ctx, e.clk(), e.poll(), p.Timeout.D(), watches, func(ctx context.Context) (bool, error) {
		if n == 0 {
			pods, err := c.CoreV1().Pods(p.Namespace).List(ctx, metav1.ListOptions{LabelSelector: sel})
			if err != nil {
				return false, kerr(err)
			}
			return len(pods.Items) == 0, nil
		}
		s, err := c.AppsV1().StatefulSets(p.Namespace).Get(ctx, p.Name, metav1.GetOptions{})
		if err != nil {
			return false, kerr(err)
		}
		return s.Status.ObservedGeneration >= s.Generation && s.Status.ReadyReplicas == n && s.Status.Replicas == n, nil
	})
	if err != nil {
		what := "its pods to be gone"
		if n > 0 {
			what = fmt.Sprintf("%d Ready replicas", n)
		}
		return fmt.Errorf("wait for statefulset %s/%s in %s to have %s: %w", p.Namespace, p.Name, cluster, what, err)
	}
	return nil
}

// deleteClaims deletes the claims in one cluster, each only after its PV
// there is read back as Retain, and waits until they are gone.
func (e Env) deleteClaims(ctx context.Context, c kubernetes.Interface, cluster string, p plan.HandoffParams) error {
	for _, cl := range p.Claims {
		pvc, err := c.CoreV1().PersistentVolumeClaims(p.Namespace).Get(ctx, cl.PVC, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			return fmt.Errorf("get pvc %s/%s in %s: %w", p.Namespace, cl.PVC, cluster, kerr(err))
		}
		if pvName := pvc.Spec.VolumeName; pvName != "" {
			pv, err := c.CoreV1().PersistentVolumes().Get(ctx, pvName, metav1.GetOptions{})
			if err != nil && !apierrors.IsNotFound(err) {
				return fmt.Errorf("get pv %s in %s: %w", pvName, cluster, kerr(err))
			}
			if err == nil && pv.Spec.PersistentVolumeReclaimPolicy != corev1.PersistentVolumeReclaimRetain {
				return fmt.Errorf("refusing to delete pvc %s/%s in %s: pv %s is %s: %w", p.Namespace, cl.PVC, cluster, pvName, pv.Spec.PersistentVolumeReclaimPolicy, ErrNotRetain)
			}
		}
		uid := pvc.UID
		err = c.CoreV1().PersistentVolumeClaims(p.Namespace).Delete(ctx, cl.PVC, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid}})
		if err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("delete pvc %s/%s in %s: %w", p.Namespace, cl.PVC, cluster, kerr(err))
		}
	}
	return kube.WaitWatched(ctx, e.clk(), e.poll(), p.Timeout.D(), claimWatches(c, p, false), func(ctx context.Context) (bool, error) {
		for _, cl := range p.Claims {
			_, err := c.CoreV1().PersistentVolumeClaims(p.Namespace).Get(ctx, cl.PVC, metav1.GetOptions{})
			if err == nil {
				return false, nil
			}
			if !apierrors.IsNotFound(err) {
				return false, kerr(err)
			}
		}
		return true, nil
	})
}

// restoreClaims re-creates claims in A bound to their PVs: the PV's stale
// claimRef UID is cleared so the PV controller binds it to the new claim.
func (e Env) restoreClaims(ctx context.Context, p plan.HandoffParams, claims []corev1.PersistentVolumeClaim) error {
	core := e.Source.CoreV1()
	for _, want := range claims {
		pvName := want.Spec.VolumeName
		_, err := core.PersistentVolumeClaims(p.Namespace).Get(ctx, want.Name, metav1.GetOptions{})
		if err == nil {
			continue
		}
		if !apierrors.IsNotFound(err) {
			return fmt.Errorf("get pvc %s/%s in %s: %w", p.Namespace, want.Name, e.SourceName, kerr(err))
		}
		pv, err := core.PersistentVolumes().Get(ctx, pvName, metav1.GetOptions{})
		if err != nil {
			return fmt.Errorf("get pv %s in %s: %w", pvName, e.SourceName, kerr(err))
		}
		if ref := pv.Spec.ClaimRef; ref != nil && (ref.UID != "" || ref.ResourceVersion != "") {
			patch := []byte(`{"spec":{"claimRef":{"uid":null,"resourceVersion":null}}}`)
			if _, err := core.PersistentVolumes().Patch(ctx, pvName, types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
				return fmt.Errorf("free pv %s for its claim in %s: %w", pvName, e.SourceName, kerr(err))
			}
		}
		// Let the PV controller see the freed PV (Available) before the
		// claim appears, or the claim waits for its next resync (15 s).
		start := e.clk().Now()
		if err := e.waitAvailablePV(ctx, pvName, p); err != nil {
			return err
		}
		e.Log.Info("pv available for its claim again", "pv", pvName, "elapsed", clock.Since(e.clk(), start))
		w := want
		if _, err := core.PersistentVolumeClaims(p.Namespace).Create(ctx, &w, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("re-create pvc %s/%s in %s: %w", p.Namespace, want.Name, e.SourceName, kerr(err))
		}
	}
	start := e.clk().Now()
	err := e.waitBound(ctx, e.Source, e.SourceName, p)
	e.Log.Info("claims re-bound", "statefulset", p.Namespace+"/"+p.Name, "elapsed", clock.Since(e.clk(), start))
	return err
}

// waitBound waits until every claim is Bound to the PV the plan names, as
// both the PV and the claim itself report it: the data reference is
// intact, and a pod that uses the claim can be scheduled.
func (e Env) waitBound(ctx context.Context, c kubernetes.Interface, cluster string, p plan.HandoffParams) error {
	poked := map[string]bool{}
	err := kube.WaitWatched(ctx, e.clk(), e.poll(), p.Timeout.D(), claimWatches(c, p, true), func(ctx context.Context) (bool, error) {
		for _, cl := range p.Claims {
			pvc, err := c.CoreV1().PersistentVolumeClaims(p.Namespace).Get(ctx, cl.PVC, metav1.GetOptions{})
			if apierrors.IsNotFound(err) {
				return false, nil
			}
			if err != nil {
				return false, kerr(err)
			}
			if pvc.Spec.VolumeName != "" && pvc.Spec.VolumeName != cl.PV {
				return false, fmt.Errorf("pvc %s/%s in %s bound to pv %s, want %s", p.Namespace, cl.PVC, cluster, pvc.Spec.VolumeName, cl.PV)
			}
			if bound, err := BoundTo(ctx, c, cl.PV, pvc); err != nil || !bound {
				return false, err
			}
			if pvc.Status.Phase != corev1.ClaimBound {
				// Bound on the PV's side, not yet on the claim's: the
				// scheduler reads the claim, and a pod started now would
				// be marked unschedulable and could wait minutes to be
				// retried. Touch the claim so that the PV controller syncs
				// it now rather than at its next resync.
				if !poked[cl.PVC] {
					poked[cl.PVC] = true
					patch := fmt.Appendf(nil, `{"metadata":{"annotations":{%q:%q}}}`, "bluegreen.dev/bound-to", cl.PV)
					if _, err := c.CoreV1().PersistentVolumeClaims(p.Namespace).Patch(ctx, cl.PVC, types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
						return false, kerr(err)
					}
				}
				return false, nil
			}
		}
		return true, nil
	})
	if err != nil {
		return fmt.Errorf("wait for %s/%s's claims to bind in %s: %w", p.Namespace, p.Name, cluster, err)
	}
	return nil
}

// claimWatches watch each of the StatefulSet's claims by name, and with
// pvs their planned PVs too: what a wait on the claims looks at again when
// it changes.
func claimWatches(c kubernetes.Interface, p plan.HandoffParams, pvs bool) []kube.Watcher {
	var out []kube.Watcher
	for _, cl := range p.Claims {
		out = append(out, kube.Named(c.CoreV1().PersistentVolumeClaims(p.Namespace).Watch, cl.PVC))
		if pvs {
			out = append(out, kube.Named(c.CoreV1().PersistentVolumes().Watch, cl.PV))
		}
	}
	return out
}

// portableClaim keeps what re-creates the claim on the same PV.
func portableClaim(pvc *corev1.PersistentVolumeClaim, pv string) corev1.PersistentVolumeClaim {
	out := corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Name: pvc.Name, Namespace: pvc.Namespace, Labels: pvc.Labels},
		Spec:       *pvc.Spec.DeepCopy(),
	}
	for k, v := range pvc.Annotations {
		if strings.HasPrefix(k, "pv.kubernetes.io/") || strings.HasPrefix(k, "volume.") || k == "kubectl.kubernetes.io/last-applied-configuration" {
			continue
		}
		if out.Annotations == nil {
			out.Annotations = map[string]string{}
		}
		out.Annotations[k] = v
	}
	out.Spec.VolumeName = pv
	return out
}

// claimFromPlan rebuilds a claim from what was observed when planning.
func claimFromPlan(p plan.HandoffParams, c plan.ClaimObserved) *corev1.PersistentVolumeClaim {
	modes := make([]corev1.PersistentVolumeAccessMode, 0, len(c.AccessModes))
	for _, m := range c.AccessModes {
		modes = append(modes, corev1.PersistentVolumeAccessMode(m))
	}
	pvc := &corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Name: c.PVC, Namespace: p.Namespace},
		Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes: modes,
			VolumeName:  c.PV,
		},
	}
	if q, err := resource.ParseQuantity(c.Capacity); err == nil {
		pvc.Spec.Resources.Requests = corev1.ResourceList{corev1.ResourceStorage: q}
	}
	if c.StorageClass != "" {
		sc := c.StorageClass
		pvc.Spec.StorageClassName = &sc
	}
	return pvc
}

func (e Env) waitAvailablePV(ctx context.Context, name string, p plan.HandoffParams) error {
	watches := []kube.Watcher{kube.Named(e.Source.CoreV1().PersistentVolumes().Watch, name)}
	err := kube.WaitWatched(ctx, e.clk(), e.poll(), p.Timeout.D(), watches, func(ctx context.Context) (bool, error) {
		pv, err := e.Source.CoreV1().PersistentVolumes().Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, kerr(err)
		}
		return pv.Status.Phase == corev1.VolumeAvailable || pv.Status.Phase == corev1.VolumeBound, nil
	})
	if err != nil {
		return fmt.Errorf("wait for pv %s to be available for its claim in %s: %w", name, e.SourceName, err)
	}
	return nil
}

// BoundTo reports whether claim pvc is bound to PV name. The PV controller
// binds the PV to the claim at once but may write the claim's own status a
// resync later (seconds), so the PV's side of the binding — Bound, to this
// claim's UID — counts as the same fact for the data reference (the
// checklist). Before starting pods on the claim, waitBound also waits for
// the claim's own status: the scheduler reads that one.
func BoundTo(ctx context.Context, c kubernetes.Interface, name string, pvc *corev1.PersistentVolumeClaim) (bool, error) {
	if pvc.Spec.VolumeName != name {
		return false, nil
	}
	if pvc.Status.Phase == corev1.ClaimBound {
		return true, nil
	}
	pv, err := c.CoreV1().PersistentVolumes().Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return false, kerr(err)
	}
	ref := pv.Spec.ClaimRef
	return pv.Status.Phase == corev1.VolumeBound && ref != nil && ref.UID == pvc.UID &&
		ref.Namespace == pvc.Namespace && ref.Name == pvc.Name, nil
}
