package migrationbed

import (
	"context"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"github.com/bluegreen/bluegreen/test/awsfake"
	"github.com/bluegreen/bluegreen/test/testbed"
)

// StorageClass is the gp3 class both clusters have.
const StorageClass = "gp3"

// seed gives the fake what the worksheet asks about: two EKS clusters in
// one VPC, an OIDC provider for each issuer, the EBS CSI add-on at one
// version, a security group admitting the VPC, the weighted records at
// blue 100 / green 0, one instance per test-bed node, and B's load
// balancer with every node of B a healthy target.
func (w *World) seed(ctx context.Context) error {
	s := w.AWS
	s.AddSubnet(awsfake.Subnet{ID: "subnet-0a1b2c3d4e5f60001", VpcID: VPC, CIDR: "10.0.1.0/24", AZ: Zone})
	for _, c := range []struct{ name, version, sg, issuer string }{
		{BlueEKS, "1.29", "sg-0b1e0000000000001", "https://oidc.eks.us-east-1.amazonaws.com/id/B1E0000000000000000000000000001"},
		{GreenEKS, "1.34", "sg-06ee0000000000002", "https://oidc.eks.us-east-1.amazonaws.com/id/6EE0000000000000000000000000002"},
	} {
		s.AddSecurityGroup(awsfake.SecurityGroup{ID: c.sg, Name: c.name + "-cluster", VpcID: VPC,
			Ingress: []awsfake.IngressRule{{Protocol: "-1", CIDRs: []string{"10.0.0.0/16"}}}})
		s.AddCluster(awsfake.EKSCluster{Name: c.name, Version: c.version, VpcID: VPC, SubnetIDs: []string{"subnet-0a1b2c3d4e5f60001"},
			ClusterSecurityGroupID: c.sg, OIDCIssuer: c.issuer, Status: "ACTIVE"})
		s.AddOIDCProvider(c.issuer)
		if err := s.AddAddon(c.name, "aws-ebs-csi-driver", CSIVersion); err != nil {
			return err
		}
	}
	w.ZoneID = s.AddHostedZone(Domain)
	w.InternalID = s.AddHostedZone(InternalZone)
	err := s.AddRecords(w.ZoneID,
		awsfake.Record{Name: Record, Type: "CNAME", TTL: 60, Values: []string{BlueLB}, SetIdentifier: "blue", Weight: ptr.To[int64](100)},
		awsfake.Record{Name: Record, Type: "CNAME", TTL: 60, Values: []string{GreenLB}, SetIdentifier: "green", Weight: ptr.To[int64](0)})
	if err != nil {
		return fmt.Errorf("seed records: %w", err)
	}
	for _, c := range []*testbed.Cluster{w.A, w.B} {
		nodes, err := c.Client.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
		if err != nil {
			return fmt.Errorf("list nodes of %s: %w", c.Name, err)
		}
		targets := map[string]string{}
		for _, n := range nodes.Items {
			s.AddInstance(instanceID(n.Spec.ProviderID), Zone)
			targets[instanceID(n.Spec.ProviderID)] = "healthy"
		}
		if c == w.B {
			lb := s.AddLoadBalancer(awsfake.LoadBalancer{Name: GreenLBName, DNSName: GreenLB, VpcID: VPC, SubnetIDs: []string{"subnet-0a1b2c3d4e5f60001"}})
			if w.GreenTargetGroup, err = s.AddTargetGroup(lb, GreenLBName+"-web", targets); err != nil {
				return fmt.Errorf("seed B's target group: %w", err)
			}
		}
	}
	return nil
}

// installClusterAddons gives both clusters the EBS CSI driver object and
// the gp3 StorageClass, and B the AWS Load Balancer Controller.
func (w *World) installClusterAddons(ctx context.Context) error {
	for _, c := range []kubernetes.Interface{w.A.Client, w.B.Client} {
		drv := &storagev1.CSIDriver{ObjectMeta: metav1.ObjectMeta{Name: "ebs.csi.aws.com"},
			Spec: storagev1.CSIDriverSpec{AttachRequired: ptr.To(true)}}
		if _, err := c.StorageV1().CSIDrivers().Create(ctx, drv, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("create csidriver: %w", err)
		}
		sc := &storagev1.StorageClass{ObjectMeta: metav1.ObjectMeta{Name: StorageClass}, Provisioner: "ebs.csi.aws.com",
			ReclaimPolicy: ptr.To(corev1.PersistentVolumeReclaimDelete), Parameters: map[string]string{"type": "gp3"}}
		if _, err := c.StorageV1().StorageClasses().Create(ctx, sc, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("create storageclass: %w", err)
		}
	}
	lbc := deployment("kube-system", "aws-load-balancer-controller", 1, map[string]string{"app.kubernetes.io/name": "aws-load-balancer-controller"})
	if _, err := w.B.Client.AppsV1().Deployments("kube-system").Create(ctx, lbc, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create load balancer controller in B: %w", err)
	}
	return nil
}

// kwokToleration lets pods onto the test bed's fake nodes.
var kwokToleration = corev1.Toleration{Key: "kwok.x-k8s.io/node", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}

func podSpec() corev1.PodSpec {
	return corev1.PodSpec{
		Containers:  []corev1.Container{{Name: "app", Image: "registry.example.com/shop:1.0.0"}},
		Tolerations: []corev1.Toleration{kwokToleration},
	}
}

func deployment(ns, name string, replicas int32, labels map[string]string) *appsv1.Deployment {
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: labels},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To(replicas),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: podSpec()},
		},
	}
}
