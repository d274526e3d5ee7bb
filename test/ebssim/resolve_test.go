package ebssim

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestParseVolumeID(t *testing.T) {
	tests := []struct {
		handle, want string
		wantErr      bool
	}{
		{handle: "vol-0123456789abcdef0", want: "vol-0123456789abcdef0"},
		{handle: "vol-0123abcd", want: "vol-0123abcd"},
		{handle: "aws://us-east-1a/vol-0123456789abcdef0", want: "vol-0123456789abcdef0"},
		{handle: "aws:///vol-0123456789abcdef0", want: "vol-0123456789abcdef0"},
		{handle: "", wantErr: true},
		{handle: "vol-", wantErr: true},
		{handle: "snap-0123456789abcdef0", wantErr: true},
		{handle: "aws://us-east-1a/", wantErr: true},
		{handle: "fs-0123456789abcdef0::fsap-1", wantErr: true},
	}
	for _, tt := range tests {
		got, err := ParseVolumeID(tt.handle)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ParseVolumeID(%q) = %q, %v; want %q, error %v", tt.handle, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestParseInstanceID(t *testing.T) {
	tests := []struct {
		providerID, want string
		wantErr          bool
	}{
		{providerID: "aws:///us-east-1a/i-0123456789abcdef0", want: "i-0123456789abcdef0"},
		{providerID: "aws:///i-0123abcd", want: "i-0123abcd"},
		{providerID: "", wantErr: true},
		{providerID: "kind://docker/kind/kind-control-plane", wantErr: true},
		{providerID: "aws:///us-east-1a/", wantErr: true},
		{providerID: "aws:///us-east-1a/i-", wantErr: true},
	}
	for _, tt := range tests {
		got, err := ParseInstanceID(tt.providerID)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ParseInstanceID(%q) = %q, %v; want %q, error %v", tt.providerID, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestAttachmentNameMatchesKubernetes(t *testing.T) {
	// csi-<sha256(handle+driver+node)>, as pkg/volume/csi names it.
	const want = "csi-ec406e4c3cbce5e157485bb93c44220b5cfbdf99e460d59e51bd687bbac974bb"
	if got := AttachmentName("vol-0123456789abcdef0", DefaultDriver, "node-0"); got != want {
		t.Errorf("AttachmentName = %s, want %s", got, want)
	}
}

func TestVolumeOfPV(t *testing.T) {
	csi := func(driver, handle string) *corev1.PersistentVolume {
		return &corev1.PersistentVolume{Spec: corev1.PersistentVolumeSpec{PersistentVolumeSource: corev1.PersistentVolumeSource{
			CSI: &corev1.CSIPersistentVolumeSource{Driver: driver, VolumeHandle: handle},
		}}}
	}
	inTree := &corev1.PersistentVolume{Spec: corev1.PersistentVolumeSpec{PersistentVolumeSource: corev1.PersistentVolumeSource{
		AWSElasticBlockStore: &corev1.AWSElasticBlockStoreVolumeSource{VolumeID: "aws://us-east-1a/vol-0abc1234"},
	}}}
	tests := []struct {
		name       string
		pv         *corev1.PersistentVolume
		driver     string
		wantID     string
		wantHandle string
		wantOK     bool
	}{
		{"csi", csi(DefaultDriver, "vol-0abc1234"), DefaultDriver, "vol-0abc1234", "vol-0abc1234", true},
		{"csi with zone", csi(DefaultDriver, "aws://us-east-1a/vol-0abc1234"), DefaultDriver, "vol-0abc1234", "aws://us-east-1a/vol-0abc1234", true},
		{"other driver", csi("efs.csi.aws.com", "vol-0abc1234"), DefaultDriver, "", "", false},
		{"custom driver", csi("test.example.com", "vol-0abc1234"), "test.example.com", "vol-0abc1234", "vol-0abc1234", true},
		{"bad handle", csi(DefaultDriver, "not-a-volume"), DefaultDriver, "", "", false},
		{"in-tree", inTree, DefaultDriver, "vol-0abc1234", "vol-0abc1234", true},
		{"in-tree, custom driver", inTree, "test.example.com", "", "", false},
		{"no source", &corev1.PersistentVolume{}, DefaultDriver, "", "", false},
	}
	for _, tt := range tests {
		got, ok := volumeOfPV(tt.pv, tt.driver)
		if ok != tt.wantOK || got.volumeID != tt.wantID || (ok && got.handle != tt.wantHandle) {
			t.Errorf("%s: volumeOfPV = %+v, %v; want %s (handle %s), %v", tt.name, got, ok, tt.wantID, tt.wantHandle, tt.wantOK)
		}
	}
}

func TestPodUsesVolumes(t *testing.T) {
	now := metav1.Now()
	tests := []struct {
		name  string
		node  string
		phase corev1.PodPhase
		del   *metav1.Time
		want  bool
	}{
		{"unscheduled", "", corev1.PodPending, nil, false},
		{"scheduled", "node-0", corev1.PodPending, nil, true},
		{"running", "node-0", corev1.PodRunning, nil, true},
		{"terminating", "node-0", corev1.PodRunning, &now, true},
		{"succeeded", "node-0", corev1.PodSucceeded, nil, false},
		{"failed", "node-0", corev1.PodFailed, nil, false},
	}
	for _, tt := range tests {
		pod := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{DeletionTimestamp: tt.del},
			Spec:       corev1.PodSpec{NodeName: tt.node},
			Status:     corev1.PodStatus{Phase: tt.phase},
		}
		if got := podUsesVolumes(pod); got != tt.want {
			t.Errorf("%s: podUsesVolumes = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestPodClaims(t *testing.T) {
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "web-0"},
		Spec: corev1.PodSpec{Volumes: []corev1.Volume{
			{Name: "data", VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "data-web-0"}}},
			{Name: "config", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{}}},
			{Name: "scratch", VolumeSource: corev1.VolumeSource{Ephemeral: &corev1.EphemeralVolumeSource{}}},
		}},
	}
	got := podClaims(pod)
	if len(got) != 2 || got[0] != "data-web-0" || got[1] != "web-0-scratch" {
		t.Errorf("podClaims = %q, want [data-web-0 web-0-scratch]", got)
	}
}

func TestDeviceAllocator(t *testing.T) {
	d := deviceAllocator{used: map[string]map[string]bool{}}
	first, _ := d.allocate("i-a")
	d.mark("i-a", "/dev/xvdbb")
	second, _ := d.allocate("i-a")
	other, _ := d.allocate("i-b")
	if first != "/dev/xvdba" || second != "/dev/xvdbc" || other != "/dev/xvdba" {
		t.Errorf("allocated %s, %s on i-a and %s on i-b; want /dev/xvdba, /dev/xvdbc, /dev/xvdba", first, second, other)
	}
	d.release("i-a", first)
	if again, _ := d.allocate("i-a"); again != first {
		t.Errorf("after release got %s, want %s again", again, first)
	}
	for range len(deviceNames) {
		_, _ = d.allocate("i-c")
	}
	if _, err := d.allocate("i-c"); err == nil {
		t.Errorf("allocate on a full instance: no error")
	}
}
