package ebssim_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	"github.com/bluegreen/bluegreen/test/awsfake"
	"github.com/bluegreen/bluegreen/test/ebssim"
	"github.com/bluegreen/bluegreen/test/testbed"
)

// This file holds the test world: test-bed clusters with a simulator each,
// one AWS fake, and the objects of a stateful hand-off.

const (
	zone = "us-east-1a"
	ns   = metav1.NamespaceDefault
	// waitTimeout bounds every wait; generous, for slow, shared machines.
	waitTimeout = 3 * time.Minute
	// Delays of the simulators and of the fake's detach: short, so the tests
	// are quick, yet long enough to be exercised.
	attachDelay = 300 * time.Millisecond
	detachDelay = 300 * time.Millisecond
	ec2Detach   = 300 * time.Millisecond
)

// startAWS starts an AWS fake and returns it and an EC2 client for it.
func startAWS(t *testing.T) (*awsfake.Server, *ec2.Client) {
	t.Helper()
	srv := awsfake.New(awsfake.Options{DetachDelay: ec2Detach}).StartT(t)
	return srv, ec2.NewFromConfig(srv.AWSConfig())
}

// cluster is a test-bed cluster whose nodes are registered as instances
// of the AWS fake.
type cluster struct {
	*testbed.Cluster
	instances map[string]string // node name -> instance ID
	sim       *ebssim.Simulator
}

// startCluster starts a cluster of two nodes in zone and registers them
// with srv.
func startCluster(t *testing.T, name string, srv *awsfake.Server) *cluster {
	t.Helper()
	tb := testbed.StartT(t, testbed.Options{Name: name, Nodes: 2, Zones: []string{zone}})
	c := &cluster{Cluster: tb, instances: map[string]string{}}
	nodes, err := tb.Client.CoreV1().Nodes().List(t.Context(), metav1.ListOptions{})
	if err != nil {
		t.Fatalf("list nodes of %s: %v", name, err)
	}
	for _, n := range nodes.Items {
		id, err := ebssim.ParseInstanceID(n.Spec.ProviderID)
		if err != nil {
			t.Fatalf("node %s: %v", n.Name, err)
		}
		srv.AddInstance(id, zone)
		c.instances[n.Name] = id
	}
	return c
}

// defaultOptions are the simulator options of most tests.
func defaultOptions(client ebssim.EC2) ebssim.Options {
	return ebssim.Options{EC2: client, AttachDelay: attachDelay, DetachDelay: detachDelay, RetryInterval: 100 * time.Millisecond}
}

// runSimulator runs a simulator with o for c until the test ends.
func (c *cluster) runSimulator(t *testing.T, o ebssim.Options) {
	t.Helper()
	o.Kube = c.Client
	o.Logger = slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug})).
		With("cluster", c.Name)
	c.sim = ebssim.New(o)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.sim.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("simulator of %s: %v", c.Name, err)
		}
	})
}

// createVolume creates a 1 GiB volume in zone and returns its ID.
func createVolume(t *testing.T, client *ec2.Client) string {
	t.Helper()
	out, err := client.CreateVolume(t.Context(), &ec2.CreateVolumeInput{
		AvailabilityZone: aws.String(zone), Size: aws.Int32(1), VolumeType: ec2types.VolumeTypeGp3,
	})
	if err != nil {
		t.Fatalf("create volume: %v", err)
	}
	return aws.ToString(out.VolumeId)
}

// createStaticPV creates the PV name for volumeID, pre-bound to the PVC
// claim in ns, and the claim bound to it, as the hand-off does in the target
// cluster: the PV first, the claim once the PV controller has seen the PV
// (Available; a claim that comes first waits for the controller's next
// resync), and returns once the claim is Bound. A pod whose claim is still
// unbound is marked unschedulable, and the scheduler may take minutes to
// try it again.
func (c *cluster) createStaticPV(t *testing.T, name, volumeID, claim string) {
	t.Helper()
	pv := &corev1.PersistentVolume{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: corev1.PersistentVolumeSpec{
			Capacity:                      corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")},
			AccessModes:                   []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			PersistentVolumeReclaimPolicy: corev1.PersistentVolumeReclaimRetain,
			StorageClassName:              "",
			PersistentVolumeSource: corev1.PersistentVolumeSource{CSI: &corev1.CSIPersistentVolumeSource{
				Driver: ebssim.DefaultDriver, VolumeHandle: volumeID, FSType: "ext4",
			}},
			ClaimRef: &corev1.ObjectReference{Kind: "PersistentVolumeClaim", APIVersion: "v1", Namespace: ns, Name: claim},
			NodeAffinity: &corev1.VolumeNodeAffinity{Required: &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{{
				MatchExpressions: []corev1.NodeSelectorRequirement{{
					Key: testbed.ZoneLabel, Operator: corev1.NodeSelectorOpIn, Values: []string{zone},
				}},
			}}}},
		},
	}
	if _, err := c.Client.CoreV1().PersistentVolumes().Create(t.Context(), pv, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create persistent volume %s in %s: %v", name, c.Name, err)
	}
	waitFor(t, fmt.Sprintf("persistent volume %s available in %s", name, c.Name), func(ctx context.Context) (bool, error) {
		got, err := c.Client.CoreV1().PersistentVolumes().Get(ctx, name, metav1.GetOptions{})
		return err == nil && got.Status.Phase == corev1.VolumeAvailable, err
	})
	pvc := &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: claim, Namespace: ns}, Spec: claimSpec()}
	pvc.Spec.VolumeName = name
	if _, err := c.Client.CoreV1().PersistentVolumeClaims(ns).Create(t.Context(), pvc, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create claim %s in %s: %v", claim, c.Name, err)
	}
	poked := false
	waitFor(t, fmt.Sprintf("claim %s bound to %s in %s", claim, name, c.Name), func(ctx context.Context) (bool, error) {
		got, err := c.Client.CoreV1().PersistentVolumeClaims(ns).Get(ctx, claim, metav1.GetOptions{})
		if err != nil || got.Status.Phase == corev1.ClaimBound {
			return err == nil, err
		}
		// The PV controller's claim and volume workers both write the PV's
		// phase; the loser of that race gives up on the claim until the
		// next resync. Touching the claim makes it sync again now.
		vol, err := c.Client.CoreV1().PersistentVolumes().Get(ctx, name, metav1.GetOptions{})
		if err != nil || poked || vol.Status.Phase != corev1.VolumeBound {
			return false, err
		}
		poked = true
		patch := []byte(`{"metadata":{"annotations":{"ebssim.test/poked":"true"}}}`)
		_, err = c.Client.CoreV1().PersistentVolumeClaims(ns).Patch(ctx, claim, types.MergePatchType, patch, metav1.PatchOptions{})
		return false, err
	}, func() string { return c.schedulingState("") })
}

// claimSpec is the spec of the StatefulSets' volume claim template.
func claimSpec() corev1.PersistentVolumeClaimSpec {
	return corev1.PersistentVolumeClaimSpec{
		AccessModes:      []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
		StorageClassName: ptr.To(""),
		Resources: corev1.VolumeResourceRequirements{
			Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")},
		},
	}
}

// createStatefulSet creates a StatefulSet name with one volume claim
// template "data" (its pod i uses PVC data-<name>-<i>), pinned to node
// unless node is empty.
func (c *cluster) createStatefulSet(t *testing.T, name string, replicas int32, node string) {
	t.Helper()
	labels := map[string]string{"app": name}
	sts := &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: appsv1.StatefulSetSpec{
			Replicas:    ptr.To(replicas),
			ServiceName: name,
			Selector:    &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{
					Name: "db", Image: "example.com/db:v1",
					VolumeMounts: []corev1.VolumeMount{{Name: "data", MountPath: "/data"}},
				}}},
			},
			VolumeClaimTemplates: []corev1.PersistentVolumeClaim{{
				ObjectMeta: metav1.ObjectMeta{Name: "data"},
				Spec:       claimSpec(),
			}},
		},
	}
	if node != "" {
		sts.Spec.Template.Spec.NodeSelector = map[string]string{"kubernetes.io/hostname": node}
	}
	if _, err := c.Client.AppsV1().StatefulSets(ns).Create(t.Context(), sts, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create stateful set %s in %s: %v", name, c.Name, err)
	}
}

// scale sets the replicas of StatefulSet name.
func (c *cluster) scale(t *testing.T, name string, replicas int32) {
	t.Helper()
	patch := fmt.Appendf(nil, `{"spec":{"replicas":%d}}`, replicas)
	_, err := c.Client.AppsV1().StatefulSets(ns).Patch(t.Context(), name, types.MergePatchType, patch, metav1.PatchOptions{})
	if err != nil {
		t.Fatalf("scale stateful set %s in %s to %d: %v", name, c.Name, replicas, err)
	}
}

// scheduledPod waits until pod name exists and is scheduled, and returns it.
func (c *cluster) scheduledPod(t *testing.T, name string) *corev1.Pod {
	t.Helper()
	var pod *corev1.Pod
	waitFor(t, fmt.Sprintf("pod %s scheduled in %s", name, c.Name), func(ctx context.Context) (bool, error) {
		p, err := c.Client.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, nil
		}
		pod = p
		return p.Spec.NodeName != "", nil
	}, func() string { return c.schedulingState(name) })
	return pod
}

// schedulingState describes what decides whether pod name (if not empty)
// can be scheduled: its conditions and the phases of the claims and volumes
// in c.
func (c *cluster) schedulingState(name string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var b strings.Builder
	if name != "" {
		p, err := c.Client.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			fmt.Fprintf(&b, "pod: %v; ", err)
		} else {
			for _, cond := range p.Status.Conditions {
				fmt.Fprintf(&b, "pod %s=%s (%s: %s); ", cond.Type, cond.Status, cond.Reason, cond.Message)
			}
		}
	}
	if claims, err := c.Client.CoreV1().PersistentVolumeClaims(ns).List(ctx, metav1.ListOptions{}); err == nil {
		for _, pvc := range claims.Items {
			fmt.Fprintf(&b, "claim %s %s volume=%q; ", pvc.Name, pvc.Status.Phase, pvc.Spec.VolumeName)
		}
	}
	if pvs, err := c.Client.CoreV1().PersistentVolumes().List(ctx, metav1.ListOptions{}); err == nil {
		for _, pv := range pvs.Items {
			claim := ""
			if ref := pv.Spec.ClaimRef; ref != nil {
				claim = ref.Name + "/" + string(ref.UID)
			}
			fmt.Fprintf(&b, "volume %s %s claim=%s; ", pv.Name, pv.Status.Phase, claim)
		}
	}
	return b.String()
}

// waitPodGone waits until pod name no longer exists.
func (c *cluster) waitPodGone(t *testing.T, name string) {
	t.Helper()
	waitFor(t, fmt.Sprintf("pod %s gone from %s", name, c.Name), func(ctx context.Context) (bool, error) {
		_, err := c.Client.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
		return apierrors.IsNotFound(err), nil
	})
}

// attachmentOf returns the VolumeAttachment of PV pv, or nil.
func (c *cluster) attachmentOf(ctx context.Context, pv string) (*storagev1.VolumeAttachment, error) {
	list, err := c.Client.StorageV1().VolumeAttachments().List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	for i, va := range list.Items {
		if src := va.Spec.Source.PersistentVolumeName; src != nil && *src == pv {
			return &list.Items[i], nil
		}
	}
	return nil, nil
}

// waitVolumeAttachment waits until the VolumeAttachment of pv names node
// and shows the volume attached.
func (c *cluster) waitVolumeAttachment(t *testing.T, pv, node string) {
	t.Helper()
	var last *storagev1.VolumeAttachment
	waitFor(t, fmt.Sprintf("volume attachment of %s on %s attached in %s", pv, node, c.Name),
		func(ctx context.Context) (bool, error) {
			va, err := c.attachmentOf(ctx, pv)
			last = va
			return err == nil && va != nil && va.Spec.NodeName == node && va.Spec.Attacher == ebssim.DefaultDriver &&
				va.Status.Attached && va.Status.AttachmentMetadata["devicePath"] != "", nil
		},
		func() string { return fmt.Sprintf("%+v", last) })
}

// waitNoVolumeAttachment waits until pv has no VolumeAttachment.
func (c *cluster) waitNoVolumeAttachment(t *testing.T, pv string) {
	t.Helper()
	waitFor(t, fmt.Sprintf("no volume attachment of %s in %s", pv, c.Name), func(ctx context.Context) (bool, error) {
		va, err := c.attachmentOf(ctx, pv)
		return err == nil && va == nil, nil
	})
}

// ebsState is a volume as EC2 shows it.
type ebsState struct {
	State, Instance, AttachState, Device string
}

// describe returns volumeID's EC2 state.
func describe(ctx context.Context, client *ec2.Client, volumeID string) (ebsState, error) {
	out, err := client.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{VolumeIds: []string{volumeID}})
	if err != nil || len(out.Volumes) != 1 {
		return ebsState{}, fmt.Errorf("describe volume %s: %d volumes, %w", volumeID, len(out.Volumes), err)
	}
	v := out.Volumes[0]
	st := ebsState{State: string(v.State)}
	if len(v.Attachments) > 0 {
		a := v.Attachments[0]
		st.Instance, st.AttachState, st.Device = aws.ToString(a.InstanceId), string(a.State), aws.ToString(a.Device)
	}
	return st, nil
}

// waitEBS waits until volumeID's EC2 state is want.
func waitEBS(t *testing.T, client *ec2.Client, volumeID string, want ebsState) {
	t.Helper()
	var got ebsState
	waitFor(t, fmt.Sprintf("volume %s %+v in EC2", volumeID, want), func(ctx context.Context) (bool, error) {
		var err error
		got, err = describe(ctx, client, volumeID)
		if err != nil {
			return false, err
		}
		if want.Device == "" {
			got.Device = ""
		}
		return got == want, nil
	}, func() string { return fmt.Sprintf("%+v", got) })
}

// inUseBy is the EC2 state of a volume attached to instance.
func inUseBy(instance string) ebsState {
	return ebsState{State: "in-use", Instance: instance, AttachState: "attached"}
}

// available is the EC2 state of a detached volume.
var available = ebsState{State: "available"}

// waitFor waits up to waitTimeout for cond, failing the test with what
// and, if given, what last says was seen last.
func waitFor(t *testing.T, what string, cond func(ctx context.Context) (bool, error), last ...func() string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), waitTimeout)
	defer cancel()
	if err := testbed.WaitFor(ctx, cond); err != nil {
		for _, l := range last {
			what += "; last seen " + l()
		}
		t.Fatalf("waiting for %s: %v", what, err)
	}
}
