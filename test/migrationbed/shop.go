package migrationbed

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	"github.com/bluegreen/bluegreen/test/awsfake"
	"github.com/bluegreen/bluegreen/test/testbed"
)

// Shop is the sample app installed in A.
type Shop struct {
	Namespace string
	// StatefulSets are the databases, each on one EBS volume.
	StatefulSets []DB
}

// DB is one StatefulSet with its claim, PV and volume.
type DB struct {
	Name, PVC, PV, VolumeID string
	// CNAME is its internal record in the internal zone.
	CNAME string
}

// InstallShop installs, in A, a web Deployment and Service and n
// StatefulSets (db, or db-00 … when n > 1), each with one replica whose
// claim is bound to a static PV (reclaim policy Delete, as dynamic
// provisioning leaves it) on a fresh EBS volume, with an internal CNAME.
// It returns once every StatefulSet is Ready and EC2 shows each volume
// in-use by a node of A.
func (w *World) InstallShop(ctx context.Context, ns string, n int) (Shop, error) {
	shop := Shop{Namespace: ns}
	a := w.A.Client
	if _, err := a.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		return shop, fmt.Errorf("create namespace %s: %w", ns, err)
	}
	web := map[string]string{"app": "web"}
	if _, err := a.AppsV1().Deployments(ns).Create(ctx, deployment(ns, "web", 2, web), metav1.CreateOptions{}); err != nil {
		return shop, fmt.Errorf("create web: %w", err)
	}
	if _, err := a.CoreV1().Services(ns).Create(ctx, service(ns, "web", web, false), metav1.CreateOptions{}); err != nil {
		return shop, fmt.Errorf("create service web: %w", err)
	}
	for i := range n {
		name := "db"
		if n > 1 {
			name = fmt.Sprintf("db-%02d", i)
		}
		db, err := w.installDB(ctx, ns, name)
		if err != nil {
			return shop, err
		}
		shop.StatefulSets = append(shop.StatefulSets, db)
	}
	return shop, w.waitShop(ctx, shop)
}

func (w *World) installDB(ctx context.Context, ns, name string) (DB, error) {
	a := w.A.Client
	vol, err := w.AWS.AddVolume(awsfake.Volume{AZ: Zone, Size: 10, Type: "gp3"})
	if err != nil {
		return DB{}, fmt.Errorf("create volume for %s: %w", name, err)
	}
	db := DB{Name: name, PVC: "data-" + name + "-0", PV: "pvc-" + ns + "-" + name, VolumeID: vol,
		CNAME: name + "." + ns + "." + InternalZone}
	pv := &corev1.PersistentVolume{
		ObjectMeta: metav1.ObjectMeta{Name: db.PV},
		Spec: corev1.PersistentVolumeSpec{
			Capacity:                      corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("10Gi")},
			AccessModes:                   []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			PersistentVolumeReclaimPolicy: corev1.PersistentVolumeReclaimDelete,
			StorageClassName:              StorageClass,
			PersistentVolumeSource: corev1.PersistentVolumeSource{CSI: &corev1.CSIPersistentVolumeSource{
				Driver: "ebs.csi.aws.com", VolumeHandle: vol, FSType: "ext4"}},
			ClaimRef: &corev1.ObjectReference{Kind: "PersistentVolumeClaim", APIVersion: "v1", Namespace: ns, Name: db.PVC},
			NodeAffinity: &corev1.VolumeNodeAffinity{Required: &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{{
				MatchExpressions: []corev1.NodeSelectorRequirement{{Key: "topology.kubernetes.io/zone", Operator: corev1.NodeSelectorOpIn, Values: []string{Zone}}},
			}}}},
		},
	}
	if _, err := a.CoreV1().PersistentVolumes().Create(ctx, pv, metav1.CreateOptions{}); err != nil {
		return db, fmt.Errorf("create pv %s: %w", db.PV, err)
	}
	labels := map[string]string{"app": name}
	if _, err := a.CoreV1().Services(ns).Create(ctx, service(ns, name, labels, true), metav1.CreateOptions{}); err != nil {
		return db, fmt.Errorf("create service %s: %w", name, err)
	}
	sts := &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: labels},
		Spec: appsv1.StatefulSetSpec{
			Replicas: ptr.To[int32](1), ServiceName: name,
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: podSpec()},
			VolumeClaimTemplates: []corev1.PersistentVolumeClaim{{
				ObjectMeta: metav1.ObjectMeta{Name: "data"},
				Spec: corev1.PersistentVolumeClaimSpec{
					AccessModes:      []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
					StorageClassName: ptr.To(StorageClass),
					Resources:        corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("10Gi")}},
				},
			}},
		},
	}
	sts.Spec.Template.Spec.Volumes = nil
	sts.Spec.Template.Spec.Containers[0].VolumeMounts = []corev1.VolumeMount{{Name: "data", MountPath: "/var/lib/db"}}
	if _, err := a.AppsV1().StatefulSets(ns).Create(ctx, sts, metav1.CreateOptions{}); err != nil {
		return db, fmt.Errorf("create statefulset %s: %w", name, err)
	}
	err = w.AWS.AddRecords(w.InternalID, awsfake.Record{Name: db.CNAME, Type: "CNAME", TTL: 30, Values: []string{BlueValue(db)}})
	return db, err
}

// BlueValue and GreenValue are a DB's internal CNAME targets in A and B.
func BlueValue(db DB) string  { return db.Name + ".blue." + InternalZone }
func GreenValue(db DB) string { return db.Name + ".green." + InternalZone }

func service(ns, name string, sel map[string]string, headless bool) *corev1.Service {
	s := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: sel},
		Spec:       corev1.ServiceSpec{Selector: sel, Ports: []corev1.ServicePort{{Port: 80, TargetPort: intstr.FromInt32(8080)}}},
	}
	if headless {
		s.Spec.ClusterIP = corev1.ClusterIPNone
	}
	return s
}

// waitShop waits until B's load balancer controller is ready, and every
// StatefulSet is Ready in A with its volume in-use by a node of A.
func (w *World) waitShop(ctx context.Context, shop Shop) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	return testbed.WaitFor(ctx, func(ctx context.Context) (bool, error) {
		lbc, err := w.B.Client.AppsV1().Deployments("kube-system").Get(ctx, "aws-load-balancer-controller", metav1.GetOptions{})
		if err != nil || lbc.Status.ReadyReplicas < 1 {
			return false, nil
		}
		for _, db := range shop.StatefulSets {
			s, err := w.A.Client.AppsV1().StatefulSets(shop.Namespace).Get(ctx, db.Name, metav1.GetOptions{})
			if err != nil || s.Status.ReadyReplicas != 1 {
				return false, nil
			}
			inst, err := w.AttachedTo(ctx, db.VolumeID)
			if err != nil || inst == "" {
				return false, nil
			}
		}
		return true, nil
	})
}

// AttachedTo returns the instance a volume is attached to ("" if none).
func (w *World) AttachedTo(ctx context.Context, vol string) (string, error) {
	out, err := w.EC2.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{VolumeIds: []string{vol}})
	if err != nil {
		return "", err
	}
	for _, v := range out.Volumes {
		for _, a := range v.Attachments {
			if a.State == "attached" {
				return aws.ToString(a.InstanceId), nil
			}
		}
	}
	return "", nil
}
