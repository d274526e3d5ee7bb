package ebssim

import (
	"crypto/sha256"
	"fmt"
	"regexp"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
)

// volumeIDPattern is what an EBS volume ID looks like.
var volumeIDPattern = regexp.MustCompile(`^vol-[0-9a-f]+$`)

// ParseVolumeID returns the EBS volume ID in a CSI volume handle or an
// in-tree awsElasticBlockStore volumeID: "vol-0123…" or
// "aws://us-east-1a/vol-0123…".
func ParseVolumeID(handle string) (string, error) {
	id := handle
	if strings.HasPrefix(handle, "aws://") {
		id = handle[strings.LastIndex(handle, "/")+1:]
	}
	if !volumeIDPattern.MatchString(id) {
		return "", fmt.Errorf("volume handle %q: not an EBS volume ID", handle)
	}
	return id, nil
}

// ParseInstanceID returns the EC2 instance ID in a node's provider ID of
// the form "aws:///us-east-1a/i-0123…".
func ParseInstanceID(providerID string) (string, error) {
	if !strings.HasPrefix(providerID, "aws://") {
		return "", fmt.Errorf("provider ID %q: not an aws:// provider ID", providerID)
	}
	id := providerID[strings.LastIndex(providerID, "/")+1:]
	if !strings.HasPrefix(id, "i-") || len(id) < 3 {
		return "", fmt.Errorf("provider ID %q: no instance ID", providerID)
	}
	return id, nil
}

// AttachmentName returns the name that Kubernetes' CSI attacher gives the
// VolumeAttachment of a volume handle, driver and node, so that the
// simulator and the attach/detach controller name the same object alike.
func AttachmentName(handle, driver, nodeName string) string {
	return fmt.Sprintf("csi-%x", sha256.Sum256([]byte(handle+driver+nodeName)))
}

// pvVolume is what the simulator needs of a PersistentVolume of its driver.
type pvVolume struct {
	volumeID string
	handle   string // the VolumeAttachment handle: CSI handle or translated in-tree ID
}

// volumeOfPV returns the EBS volume of pv if pv is a volume of driver: a CSI
// volume of that driver, or an in-tree awsElasticBlockStore volume (which
// CSI migration hands to the EBS driver).
func volumeOfPV(pv *corev1.PersistentVolume, driver string) (pvVolume, bool) {
	switch {
	case pv.Spec.CSI != nil && pv.Spec.CSI.Driver == driver:
		id, err := ParseVolumeID(pv.Spec.CSI.VolumeHandle)
		return pvVolume{volumeID: id, handle: pv.Spec.CSI.VolumeHandle}, err == nil
	case pv.Spec.AWSElasticBlockStore != nil && driver == DefaultDriver:
		id, err := ParseVolumeID(pv.Spec.AWSElasticBlockStore.VolumeID)
		return pvVolume{volumeID: id, handle: id}, err == nil
	}
	return pvVolume{}, false
}

// podClaims returns the names of the PVCs pod uses, generic ephemeral
// volumes included (their PVC is named "<pod>-<volume>").
func podClaims(pod *corev1.Pod) []string {
	var out []string
	for _, v := range pod.Spec.Volumes {
		switch {
		case v.PersistentVolumeClaim != nil:
			out = append(out, v.PersistentVolumeClaim.ClaimName)
		case v.Ephemeral != nil:
			out = append(out, pod.Name+"-"+v.Name)
		}
	}
	return out
}

// podUsesVolumes reports whether pod, as the attach/detach controller sees
// it, still needs its volumes attached: scheduled and not terminal. A pod
// being deleted keeps them until it is gone, as its containers may still
// run and the kubelet has not unmounted yet.
func podUsesVolumes(pod *corev1.Pod) bool {
	return pod.Spec.NodeName != "" &&
		pod.Status.Phase != corev1.PodSucceeded && pod.Status.Phase != corev1.PodFailed
}

// podRef names a pod that wants a volume, for events and logs.
type podRef struct {
	namespace, name string
	uid             types.UID
}

func (p podRef) String() string { return p.namespace + "/" + p.name }

// want is one node's demand for a volume: the pods there that use it.
type want struct {
	pv     string // the PV name, for messages and the VolumeAttachment
	handle string
	pods   []podRef
}

// sortedNodes returns the keys of m in order, so that attach attempts of
// competing nodes happen in a stable order.
func sortedNodes(m map[string]*want) []string {
	out := make([]string, 0, len(m))
	for n := range m {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}
