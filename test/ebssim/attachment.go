package ebssim

import (
	"context"
	"fmt"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Event reasons and the component name events are reported under.
const (
	// ReasonFailedAttach is the reason of the Warning event recorded on a
	// pod whose volume cannot be attached, as Kubernetes records it.
	ReasonFailedAttach = "FailedAttachVolume"
	// EventComponent is the source component of the simulator's events.
	EventComponent = "ebs-csi-simulator"
)

// multiAttachMessage is the Multi-Attach error Kubernetes reports, plus
// the instance that holds the volume (which a cross-cluster conflict would
// otherwise leave unnamed).
func multiAttachMessage(pv, holder string) string {
	return fmt.Sprintf("Multi-Attach error for volume %q Volume is already exclusively attached to one node "+
		"and can't be attached to another (attached to instance %s)", pv, holder)
}

// attachFailedMessage is Kubernetes' message for any other attach failure.
func attachFailedMessage(pv, reason string) string {
	return fmt.Sprintf("AttachVolume.Attach failed for volume %q : %s", pv, reason)
}

// vaState is the status a VolumeAttachment should show.
type vaState struct {
	attached  bool
	device    string // attachment metadata devicePath when attached
	attachErr string
}

// syncAttachment makes the VolumeAttachment of the volume on node exist
// and show st, the way the attach/detach controller (which creates it)
// and the external attacher (which sets its status) keep it. On nodes the
// attach/detach controller manages, the simulator only sets the status of
// the object that controller creates.
func (s *Simulator) syncAttachment(ctx context.Context, v *volume, node string, w *want, st vaState) {
	name := AttachmentName(w.handle, s.opts.Driver, node)
	va, ok := s.w.vas.get("", name)
	var err error
	if !ok {
		if s.managedByController(node) {
			return // the controller creates it; its event kicks this volume again
		}
		va, err = s.createAttachment(ctx, name, node, w.pv)
	}
	if err != nil {
		s.logOnce(v, "cannot sync volume attachment", err, "volume_attachment", name)
		return
	}
	v.vas[node] = name
	if vaStatusMatches(va.Status, st) {
		return
	}
	va = va.DeepCopy()
	va.Status = storagev1.VolumeAttachmentStatus{Attached: st.attached}
	if st.attached {
		va.Status.AttachmentMetadata = map[string]string{"devicePath": st.device}
	}
	if st.attachErr != "" {
		va.Status.AttachError = &storagev1.VolumeError{Time: metav1.Now(), Message: st.attachErr}
	}
	_, err = s.opts.Kube.StorageV1().VolumeAttachments().UpdateStatus(ctx, va, metav1.UpdateOptions{})
	if err != nil && !apierrors.IsConflict(err) && !apierrors.IsNotFound(err) {
		// A conflict or a deletion brings an event that kicks the volume again.
		s.logOnce(v, "cannot sync volume attachment", fmt.Errorf("update status of volume attachment %s: %w", name, err))
	}
}

// createAttachment creates the VolumeAttachment name, or returns the one
// that exists already.
func (s *Simulator) createAttachment(ctx context.Context, name, node, pv string) (*storagev1.VolumeAttachment, error) {
	client := s.opts.Kube.StorageV1().VolumeAttachments()
	va, err := client.Create(ctx, &storagev1.VolumeAttachment{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: storagev1.VolumeAttachmentSpec{
			Attacher: s.opts.Driver,
			NodeName: node,
			Source:   storagev1.VolumeAttachmentSource{PersistentVolumeName: &pv},
		},
	}, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		va, err = client.Get(ctx, name, metav1.GetOptions{})
	}
	if err != nil {
		return nil, fmt.Errorf("create volume attachment %s: %w", name, err)
	}
	return va, nil
}

// vaStatusMatches reports whether got already shows st.
func vaStatusMatches(got storagev1.VolumeAttachmentStatus, st vaState) bool {
	if got.Attached != st.attached || (got.AttachError == nil) != (st.attachErr == "") {
		return false
	}
	if got.AttachError != nil && got.AttachError.Message != st.attachErr {
		return false
	}
	return !st.attached || got.AttachmentMetadata["devicePath"] == st.device
}

// deleteAttachment deletes the VolumeAttachment the simulator keeps for
// the volume on node, unless the attach/detach controller owns it.
func (s *Simulator) deleteAttachment(ctx context.Context, v *volume, node string) {
	name := v.vas[node]
	delete(v.vas, node)
	if name == "" || s.managedByController(node) {
		return
	}
	err := s.opts.Kube.StorageV1().VolumeAttachments().Delete(ctx, name, metav1.DeleteOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		v.vas[node] = name // try again on the next pass
		s.logOnce(v, "cannot delete volume attachment", fmt.Errorf("delete volume attachment %s: %w", name, err))
	}
}

// reportAttachFailure records msg as a Warning event on every pod of w
// that has not had it yet, so that a retry every RetryInterval does not
// flood the pod's events, and shows it on the VolumeAttachment.
func (s *Simulator) reportAttachFailure(ctx context.Context, v *volume, node string, w *want, msg string) {
	for _, p := range w.pods {
		key := string(p.uid) + "\x00" + msg
		if v.reported[key] {
			continue
		}
		if err := s.recordEvent(ctx, p, msg); err != nil {
			s.logOnce(v, "cannot record event", err, "pod", p.String())
			continue
		}
		v.reported[key] = true
		s.log.Warn("attach failed", "volume", v.id, "pv", w.pv, "node", node, "pod", p.String(), "message", msg)
	}
	v.failed[node] = msg
	s.syncAttachment(ctx, v, node, w, vaState{attachErr: msg})
}

// recordEvent creates a Warning event with ReasonFailedAttach on pod p.
func (s *Simulator) recordEvent(ctx context.Context, p podRef, msg string) error {
	now := metav1.NewTime(time.Now())
	ev := &corev1.Event{
		ObjectMeta: metav1.ObjectMeta{
			Name:      p.name + "." + strconv.FormatInt(now.UnixNano(), 16),
			Namespace: p.namespace,
		},
		InvolvedObject: corev1.ObjectReference{
			Kind: "Pod", APIVersion: "v1", Namespace: p.namespace, Name: p.name, UID: p.uid,
		},
		Reason:         ReasonFailedAttach,
		Message:        msg,
		Type:           corev1.EventTypeWarning,
		Source:         corev1.EventSource{Component: EventComponent},
		FirstTimestamp: now,
		LastTimestamp:  now,
		Count:          1,
	}
	if _, err := s.opts.Kube.CoreV1().Events(p.namespace).Create(ctx, ev, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("record event on pod %s: %w", p, err)
	}
	return nil
}
