package volume

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/bluegreen/bluegreen/internal/batch"
	"github.com/bluegreen/bluegreen/internal/clock"
	"github.com/bluegreen/bluegreen/internal/engine"
	"github.com/bluegreen/bluegreen/internal/plan"
)

// CSIDriver is the EBS CSI driver's name; static PVs in B use it.
const CSIDriver = "ebs.csi.aws.com"

// ZoneLabel is the well-known zone label static PVs are pinned with.
const ZoneLabel = "topology.kubernetes.io/zone"

// staticPV creates, in B, one PV per claim for the same EBS volume, pre-bound
// to the claim the StatefulSet will create. The undo deletes only PVs this
// run created, only when Retain (the volume stays).
func (e Env) staticPV() engine.Action {
	return engine.Action{
		Do: func(ctx context.Context, x engine.Exec) (any, error) {
			p, err := params(x)
			if err != nil {
				return nil, err
			}
			for _, c := range p.Claims {
				want := staticPVFor(p, c, x.Run.ID)
				_, err := e.Target.CoreV1().PersistentVolumes().Create(ctx, want, metav1.CreateOptions{})
				if apierrors.IsAlreadyExists(err) {
					if err := e.reuseStaticPV(ctx, p, c, x.Run.ID); err != nil {
						return nil, err
					}
					continue
				}
				if err != nil {
					return nil, fmt.Errorf("create pv %s in %s: %w", c.PV, e.TargetName, kerr(err))
				}
			}
			return nil, nil
		},
		Undo: func(ctx context.Context, x engine.Exec) error {
			p, err := params(x)
			if err != nil {
				return err
			}
			for _, c := range p.Claims {
				pv, err := e.Target.CoreV1().PersistentVolumes().Get(ctx, c.PV, metav1.GetOptions{})
				if apierrors.IsNotFound(err) {
					continue
				}
				if err != nil {
					return fmt.Errorf("get pv %s in %s: %w", c.PV, e.TargetName, kerr(err))
				}
				if pv.Labels[RunLabel] != x.Run.ID {
					continue // not ours
				}
				if pv.Spec.PersistentVolumeReclaimPolicy != corev1.PersistentVolumeReclaimRetain {
					return fmt.Errorf("refusing to delete pv %s in %s: %w", c.PV, e.TargetName, ErrNotRetain)
				}
				if err := e.Target.CoreV1().PersistentVolumes().Delete(ctx, c.PV, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
					return fmt.Errorf("delete pv %s in %s (volume %s kept): %w", c.PV, e.TargetName, c.VolumeID, kerr(err))
				}
			}
			return nil
		},
	}
}

// reuseStaticPV accepts a PV that already exists in B under the planned
// name only when it is the one this run created (a resumed step): same
// volume, labelled with the run, reserved for the planned claim, and
// Retain. A PV someone else made would be deleted with its claim if it is
// Delete, and a rollback would delete it from under its owner if it were
// adopted; so it is refused, naming the fix. A PV of this run that someone
// set to Delete meanwhile is set back to Retain and read back before any
// claim may bind to it.
func (e Env) reuseStaticPV(ctx context.Context, p plan.HandoffParams, c plan.ClaimObserved, run string) error {
	pvs := e.Target.CoreV1().PersistentVolumes()
	got, err := pvs.Get(ctx, c.PV, metav1.GetOptions{})
	if err != nil {
		return fmt.Errorf("get pv %s in %s: %w", c.PV, e.TargetName, kerr(err))
	}
	if got.Spec.CSI == nil || plan.NormalizeVolumeID(got.Spec.CSI.VolumeHandle) != c.VolumeID {
		return fmt.Errorf("pv %s already exists in %s for another volume: delete or rename it, then resume", c.PV, e.TargetName)
	}
	if got.Labels[RunLabel] != run {
		return fmt.Errorf("pv %s already exists in %s on volume %s but this run did not create it (label %s=%q, want %q): "+
			"make sure nothing in %s uses it, set it Retain and delete it (the volume stays), then resume",
			c.PV, e.TargetName, c.VolumeID, RunLabel, got.Labels[RunLabel], run, e.TargetName)
	}
	if ref := got.Spec.ClaimRef; ref != nil && (ref.Namespace != p.Namespace || ref.Name != c.PVC) {
		return fmt.Errorf("pv %s in %s is reserved for claim %s/%s, want %s/%s: delete the PV (set it Retain first; the volume stays), then resume",
			c.PV, e.TargetName, ref.Namespace, ref.Name, p.Namespace, c.PVC)
	}
	if got.Spec.PersistentVolumeReclaimPolicy == corev1.PersistentVolumeReclaimRetain {
		return nil
	}
	patch := []byte(`{"spec":{"persistentVolumeReclaimPolicy":"Retain"}}`)
	if _, err := pvs.Patch(ctx, c.PV, types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
		return fmt.Errorf("set pv %s Retain in %s: %w", c.PV, e.TargetName, kerr(err))
	}
	back, err := pvs.Get(ctx, c.PV, metav1.GetOptions{})
	if err != nil {
		return fmt.Errorf("get pv %s in %s: %w", c.PV, e.TargetName, kerr(err))
	}
	if back.Spec.PersistentVolumeReclaimPolicy != corev1.PersistentVolumeReclaimRetain {
		return fmt.Errorf("pv %s in %s is %s after setting Retain: %w", c.PV, e.TargetName, back.Spec.PersistentVolumeReclaimPolicy, ErrNotRetain)
	}
	return nil
}

func staticPVFor(p plan.HandoffParams, c plan.ClaimObserved, run string) *corev1.PersistentVolume {
	sc := c.StorageClass
	if p.StorageClass != "" {
		sc = p.StorageClass
	}
	modes := make([]corev1.PersistentVolumeAccessMode, 0, len(c.AccessModes))
	for _, m := range c.AccessModes {
		modes = append(modes, corev1.PersistentVolumeAccessMode(m))
	}
	pv := &corev1.PersistentVolume{
		ObjectMeta: metav1.ObjectMeta{Name: c.PV, Labels: map[string]string{RunLabel: run}},
		Spec: corev1.PersistentVolumeSpec{
			Capacity:                      corev1.ResourceList{corev1.ResourceStorage: resource.MustParse(c.Capacity)},
			AccessModes:                   modes,
			PersistentVolumeReclaimPolicy: corev1.PersistentVolumeReclaimRetain,
			StorageClassName:              sc,
			PersistentVolumeSource: corev1.PersistentVolumeSource{CSI: &corev1.CSIPersistentVolumeSource{
				Driver: CSIDriver, VolumeHandle: c.VolumeID, FSType: c.FSType,
			}},
			ClaimRef: &corev1.ObjectReference{Kind: "PersistentVolumeClaim", APIVersion: "v1", Namespace: p.Namespace, Name: c.PVC},
		},
	}
	if c.Zone != "" {
		pv.Spec.NodeAffinity = &corev1.VolumeNodeAffinity{Required: &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{{
			MatchExpressions: []corev1.NodeSelectorRequirement{{Key: ZoneLabel, Operator: corev1.NodeSelectorOpIn, Values: []string{c.Zone}}},
		}}}}
	}
	return pv
}

// targetBefore is what applyTarget's undo needs to know about B.
type targetBefore struct {
	ServiceCreated string `json:"serviceCreated,omitempty"`
}

// applyTarget creates the StatefulSet in B (and its governing Service when
// B lacks it), waits until it is Ready with every claim bound to the
// handed-off PV. The undo stops it there, deletes its claims (PVs Retain)
// and waits until EC2 reports the volumes available for A again.
func (e Env) applyTarget() engine.Action {
	return engine.Action{
		Do: func(ctx context.Context, x engine.Exec) (any, error) {
			p, err := params(x)
			if err != nil {
				return nil, err
			}
			src, err := e.Source.AppsV1().StatefulSets(p.Namespace).Get(ctx, p.Name, metav1.GetOptions{})
			if err != nil {
				return nil, fmt.Errorf("get statefulset %s/%s in %s: %w", p.Namespace, p.Name, e.SourceName, kerr(err))
			}
			out := targetBefore{}
			if out.ServiceCreated, err = e.ensureNamespaceAndService(ctx, src, x.Run.ID); err != nil {
				return nil, err
			}
			sts := portableStatefulSet(src, p, x.Run.ID)
			if _, err := e.Target.AppsV1().StatefulSets(p.Namespace).Create(ctx, sts, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
				return nil, fmt.Errorf("create statefulset %s/%s in %s: %w", p.Namespace, p.Name, e.TargetName, kerr(err))
			}
			if err := e.scale(ctx, e.Target, e.TargetName, p, p.Replicas); err != nil {
				return nil, err
			}
			return out, e.waitBound(ctx, e.Target, e.TargetName, p)
		},
		Undo: func(ctx context.Context, x engine.Exec) error {
			p, err := params(x)
			if err != nil {
				return err
			}
			_, err = e.Target.AppsV1().StatefulSets(p.Namespace).Get(ctx, p.Name, metav1.GetOptions{})
			switch {
			case apierrors.IsNotFound(err):
			case err != nil:
				return fmt.Errorf("get statefulset %s/%s in %s: %w", p.Namespace, p.Name, e.TargetName, kerr(err))
			default:
				if err := e.scale(ctx, e.Target, e.TargetName, p, 0); err != nil {
					return err
				}
				if err := e.Target.AppsV1().StatefulSets(p.Namespace).Delete(ctx, p.Name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
					return fmt.Errorf("delete statefulset %s/%s in %s: %w", p.Namespace, p.Name, e.TargetName, kerr(err))
				}
			}
			if err := e.deleteClaims(ctx, e.Target, e.TargetName, p); err != nil {
				return err
			}
			var out targetBefore
			if len(x.Step.Output) > 0 {
				_ = json.Unmarshal(x.Step.Output, &out)
			}
			if out.ServiceCreated != "" {
				_ = e.Target.CoreV1().Services(p.Namespace).Delete(ctx, out.ServiceCreated, metav1.DeleteOptions{})
			}
			if err := e.waitAvailable(ctx, volumeIDs(p), p.Timeout.D()); err != nil {
				return e.diagnose(ctx, volumeIDs(p), err)
			}
			return nil
		},
	}
}

func (e Env) ensureNamespaceAndService(ctx context.Context, src *appsv1.StatefulSet, run string) (string, error) {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: src.Namespace}}
	if _, err := e.Target.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return "", fmt.Errorf("create namespace %s in %s: %w", src.Namespace, e.TargetName, kerr(err))
	}
	name := src.Spec.ServiceName
	if name == "" {
		return "", nil
	}
	if _, err := e.Target.CoreV1().Services(src.Namespace).Get(ctx, name, metav1.GetOptions{}); err == nil {
		return "", nil
	}
	svc, err := e.Source.CoreV1().Services(src.Namespace).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("get service %s/%s in %s: %w", src.Namespace, name, e.SourceName, kerr(err))
	}
	cp := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: svc.Name, Namespace: svc.Namespace, Labels: withRun(svc.Labels, run)}, Spec: *svc.Spec.DeepCopy()}
	if cp.Spec.ClusterIP != corev1.ClusterIPNone {
		cp.Spec.ClusterIP, cp.Spec.ClusterIPs = "", nil
	} else {
		cp.Spec.ClusterIPs = nil
	}
	for i := range cp.Spec.Ports {
		cp.Spec.Ports[i].NodePort = 0
	}
	cp.Spec.HealthCheckNodePort = 0
	if _, err := e.Target.CoreV1().Services(src.Namespace).Create(ctx, cp, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return "", fmt.Errorf("create service %s/%s in %s: %w", src.Namespace, name, e.TargetName, kerr(err))
	}
	return name, nil
}

func withRun(l map[string]string, run string) map[string]string {
	out := maps.Clone(l)
	if out == nil {
		out = map[string]string{}
	}
	out[RunLabel] = run
	return out
}

// portableStatefulSet is A's StatefulSet without what A owns.
func portableStatefulSet(src *appsv1.StatefulSet, p plan.HandoffParams, run string) *appsv1.StatefulSet {
	sts := &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Name: src.Name, Namespace: src.Namespace, Labels: withRun(src.Labels, run), Annotations: map[string]string{}},
		Spec:       *src.Spec.DeepCopy(),
	}
	for k, v := range src.Annotations {
		if k != "kubectl.kubernetes.io/last-applied-configuration" {
			sts.Annotations[k] = v
		}
	}
	replicas := p.Replicas
	sts.Spec.Replicas = &replicas
	for i := range sts.Spec.VolumeClaimTemplates {
		t := &sts.Spec.VolumeClaimTemplates[i]
		t.ObjectMeta = metav1.ObjectMeta{Name: t.Name, Labels: t.Labels, Annotations: t.Annotations}
		t.Status = corev1.PersistentVolumeClaimStatus{}
		if p.StorageClass != "" {
			sc := p.StorageClass
			t.Spec.StorageClassName = &sc
		}
	}
	return sts
}

// verifyAttached waits until EC2 shows every volume in-use and attached to
// an instance that is a node of B.
func (e Env) verifyAttached() engine.Action {
	return engine.Action{Do: func(ctx context.Context, x engine.Exec) (any, error) {
		p, err := params(x)
		if err != nil {
			return nil, err
		}
		vols := volumeIDs(p)
		seen := map[string]string{}
		var failed batch.Misses
		err = clock.Poll(ctx, e.clk(), e.poll(), p.Timeout.D(), func(ctx context.Context) (bool, error) {
			nodes, err := nodesByInstance(ctx, e.Target)
			if err != nil {
				return false, err
			}
			got, err := e.reads.volumes.Get(ctx, vols)
			if err != nil {
				return false, failed.Tolerate(err)
			}
			failed = 0
			if err := allFound(got, vols); err != nil {
				return false, err
			}
			ok := 0
			for _, v := range got {
				id := aws.ToString(v.VolumeId)
				seen[id] = string(v.State)
				for _, a := range v.Attachments {
					inst := aws.ToString(a.InstanceId)
					seen[id] = fmt.Sprintf("%s, %s to %s", v.State, a.State, inst)
					if n, isB := nodes[inst]; isB && a.State == ec2types.VolumeAttachmentStateAttached && v.State == ec2types.VolumeStateInUse {
						seen[id] = fmt.Sprintf("in-use by %s (node %s)", inst, n)
						ok++
					}
				}
			}
			return ok == len(vols), nil
		})
		if err != nil {
			var parts []string
			for _, k := range slices.Sorted(maps.Keys(seen)) {
				parts = append(parts, k+": "+seen[k])
			}
			return nil, fmt.Errorf("volumes not in-use by a node of %s (%s): %w", e.TargetName, strings.Join(parts, "; "), err)
		}
		return seen, nil
	}}
}
