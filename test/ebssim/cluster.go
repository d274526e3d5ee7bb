package ebssim

import (
	"context"
	"fmt"
	"slices"
	"sync"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// controllerManagedAnnotation marks a node whose volumes Kubernetes'
// attach/detach controller manages; the kubelet sets it. Test-bed nodes
// have no kubelet and so do not carry it.
const controllerManagedAnnotation = "volumes.kubernetes.io/controller-managed-attach-detach"

// watches is what the simulator keeps of the cluster.
type watches struct {
	pods  *store[*corev1.Pod]
	pvcs  *store[*corev1.PersistentVolumeClaim]
	pvs   *store[*corev1.PersistentVolume]
	nodes *store[*corev1.Node]
	vas   *store[*storagev1.VolumeAttachment]
}

// newWatches creates the stores; every change kicks the volumes it may
// concern.
func (s *Simulator) newWatches() *watches {
	core, storage := s.opts.Kube.CoreV1(), s.opts.Kube.StorageV1()
	return &watches{
		pods: newStore("pods", s.log, func(ctx context.Context, o metav1.ListOptions) ([]*corev1.Pod, string, error) {
			l, err := core.Pods("").List(ctx, o)
			if err != nil {
				return nil, "", err
			}
			return ptrs(l.Items), l.ResourceVersion, nil
		}, core.Pods("").Watch, s.onPod),
		pvcs: newStore("persistent volume claims", s.log, func(ctx context.Context, o metav1.ListOptions) ([]*corev1.PersistentVolumeClaim, string, error) {
			l, err := core.PersistentVolumeClaims("").List(ctx, o)
			if err != nil {
				return nil, "", err
			}
			return ptrs(l.Items), l.ResourceVersion, nil
		}, core.PersistentVolumeClaims("").Watch, s.onPVC),
		pvs: newStore("persistent volumes", s.log, func(ctx context.Context, o metav1.ListOptions) ([]*corev1.PersistentVolume, string, error) {
			l, err := core.PersistentVolumes().List(ctx, o)
			if err != nil {
				return nil, "", err
			}
			return ptrs(l.Items), l.ResourceVersion, nil
		}, core.PersistentVolumes().Watch, s.onPV),
		nodes: newStore("nodes", s.log, func(ctx context.Context, o metav1.ListOptions) ([]*corev1.Node, string, error) {
			l, err := core.Nodes().List(ctx, o)
			if err != nil {
				return nil, "", err
			}
			return ptrs(l.Items), l.ResourceVersion, nil
		}, core.Nodes().Watch, s.onNode),
		vas: newStore("volume attachments", s.log, func(ctx context.Context, o metav1.ListOptions) ([]*storagev1.VolumeAttachment, string, error) {
			l, err := storage.VolumeAttachments().List(ctx, o)
			if err != nil {
				return nil, "", err
			}
			return ptrs(l.Items), l.ResourceVersion, nil
		}, storage.VolumeAttachments().Watch, s.onVolumeAttachment),
	}
}

// run starts every store in a goroutine of wg, each running until ctx is
// done, and returns a channel closed once all of them have listed.
func (w *watches) run(ctx context.Context, wg *sync.WaitGroup) <-chan struct{} {
	wg.Go(func() { w.pods.run(ctx) })
	wg.Go(func() { w.pvcs.run(ctx) })
	wg.Go(func() { w.pvs.run(ctx) })
	wg.Go(func() { w.nodes.run(ctx) })
	wg.Go(func() { w.vas.run(ctx) })
	synced := make(chan struct{})
	wg.Go(func() {
		for _, c := range []<-chan struct{}{w.pods.synced, w.pvcs.synced, w.pvs.synced, w.nodes.synced, w.vas.synced} {
			select {
			case <-c:
			case <-ctx.Done():
				return
			}
		}
		close(synced)
	})
	return synced
}

func (s *Simulator) onPod(pod *corev1.Pod, deleted bool) {
	for _, claim := range podClaims(pod) {
		if id, ok := s.volumeOfClaim(pod.Namespace, claim); ok {
			s.kick(id)
		}
	}
	if deleted && pod.Spec.NodeName != "" {
		// The pod's claim may be gone already; its node's volumes are
		// then the only trace left.
		for _, id := range s.volumesOnNode(pod.Spec.NodeName) {
			s.kick(id)
		}
	}
}

func (s *Simulator) onPVC(pvc *corev1.PersistentVolumeClaim, _ bool) {
	if id, ok := s.volumeOfPVName(pvc.Spec.VolumeName); ok {
		s.kick(id)
	}
}

func (s *Simulator) onPV(pv *corev1.PersistentVolume, _ bool) {
	if v, ok := volumeOfPV(pv, s.opts.Driver); ok {
		s.kick(v.volumeID)
	}
}

func (s *Simulator) onNode(node *corev1.Node, _ bool) {
	for _, p := range s.w.pods.filter(func(p *corev1.Pod) bool { return p.Spec.NodeName == node.Name }) {
		s.onPod(p, false)
	}
	for _, id := range s.volumesOnNode(node.Name) {
		s.kick(id)
	}
}

func (s *Simulator) onVolumeAttachment(va *storagev1.VolumeAttachment, _ bool) {
	if va.Spec.Attacher != s.opts.Driver || va.Spec.Source.PersistentVolumeName == nil {
		return
	}
	if id, ok := s.volumeOfPVName(*va.Spec.Source.PersistentVolumeName); ok {
		s.kick(id)
	}
}

// volumeOfClaim returns the EBS volume of the PV bound to the PVC
// namespace/claim, if it is one of the simulator's driver.
func (s *Simulator) volumeOfClaim(namespace, claim string) (string, bool) {
	pvc, ok := s.w.pvcs.get(namespace, claim)
	if !ok {
		return "", false
	}
	return s.volumeOfPVName(pvc.Spec.VolumeName)
}

// volumeOfPVName returns the EBS volume of the PV name, if it is one of
// the simulator's driver.
func (s *Simulator) volumeOfPVName(name string) (string, bool) {
	if name == "" {
		return "", false
	}
	pv, ok := s.w.pvs.get("", name)
	if !ok {
		return "", false
	}
	v, ok := volumeOfPV(pv, s.opts.Driver)
	return v.volumeID, ok
}

// desired returns, per node, the pods that want volumeID attached there,
// as the attach/detach controller computes it: pods scheduled to a node,
// not terminal, using a Bound PVC whose PV names the volume.
func (s *Simulator) desired(volumeID string) map[string]*want {
	out := map[string]*want{}
	pvs := s.w.pvs.filter(func(pv *corev1.PersistentVolume) bool {
		v, ok := volumeOfPV(pv, s.opts.Driver)
		return ok && v.volumeID == volumeID && pv.Spec.ClaimRef != nil
	})
	for _, pv := range pvs {
		vol, _ := volumeOfPV(pv, s.opts.Driver)
		ref := pv.Spec.ClaimRef
		pvc, ok := s.w.pvcs.get(ref.Namespace, ref.Name)
		if !ok || pvc.Spec.VolumeName != pv.Name || pvc.Status.Phase != corev1.ClaimBound ||
			(ref.UID != "" && ref.UID != pvc.UID) {
			continue
		}
		pods := s.w.pods.filter(func(p *corev1.Pod) bool {
			return p.Namespace == ref.Namespace && podUsesVolumes(p) && slices.Contains(podClaims(p), ref.Name)
		})
		for _, pod := range pods {
			w := out[pod.Spec.NodeName]
			if w == nil {
				w = &want{pv: pv.Name, handle: vol.handle}
				out[pod.Spec.NodeName] = w
			}
			w.pods = append(w.pods, podRef{namespace: pod.Namespace, name: pod.Name, uid: pod.UID})
		}
	}
	return out
}

// instanceOf returns the EC2 instance ID of node.
func (s *Simulator) instanceOf(node string) (string, error) {
	n, ok := s.w.nodes.get("", node)
	if !ok {
		return "", fmt.Errorf("node %s: not found", node)
	}
	id, err := ParseInstanceID(n.Spec.ProviderID)
	if err != nil {
		return "", fmt.Errorf("node %s: %w", node, err)
	}
	return id, nil
}

// managedByController reports whether Kubernetes' attach/detach controller
// manages node's volumes, and so creates and deletes its VolumeAttachments.
func (s *Simulator) managedByController(node string) bool {
	n, ok := s.w.nodes.get("", node)
	if !ok {
		return false
	}
	_, managed := n.Annotations[controllerManagedAnnotation]
	return managed
}

// logManagedNodes says, once at start-up, which nodes the attach/detach
// controller manages.
func (s *Simulator) logManagedNodes() {
	for _, n := range s.w.nodes.filter(func(*corev1.Node) bool { return true }) {
		if _, ok := n.Annotations[controllerManagedAnnotation]; ok {
			s.log.Info("node's VolumeAttachments are the attach/detach controller's; simulating the external attacher only",
				"node", n.Name)
		}
	}
}
