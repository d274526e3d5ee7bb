package migrate

import (
	"context"
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/bluegreen/bluegreen/internal/plan"
	"github.com/bluegreen/bluegreen/internal/traffic"
	"github.com/bluegreen/bluegreen/internal/volume"
)

// Observe reads what planning needs from both clusters and EC2: each
// StatefulSet's claims with the PV and EBS volume behind them, B's zones,
// the objects the warm standby would copy, and the current weights.
func Observe(ctx context.Context, e Env, m plan.Migration) (plan.MigrationObserved, error) {
	var obs plan.MigrationObserved
	for _, ref := range m.StatefulSets {
		so, found, err := e.observeStatefulSet(ctx, ref)
		if err != nil {
			return obs, err
		}
		if found {
			obs.StatefulSets = append(obs.StatefulSets, so)
		}
	}
	nodes, err := e.Target.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return obs, fmt.Errorf("list nodes of %s: %w", e.TargetName, err)
	}
	for _, n := range nodes.Items {
		if z := n.Labels[volume.ZoneLabel]; z != "" && !slices.Contains(obs.TargetZones, z) {
			obs.TargetZones = append(obs.TargetZones, z)
		}
	}
	slices.Sort(obs.TargetZones)
	if len(m.Workloads.Namespaces) > 0 {
		if obs.Standby, err = e.standbyPlan(ctx, m.Workloads); err != nil {
			return obs, err
		}
	}
	if e.Router != nil {
		obs.Split = map[string]map[string]int{}
		for _, t := range e.Records {
			s, err := e.Router.Observe(ctx, t)
			if err != nil {
				// Some routers' objects in B only exist once the standby
				// is copied; the first shift observes them.
				if late, ok := e.Router.(traffic.LateObserver); ok && late.ObservableAfterStandby(t) {
					e.Log.Info("weights not observable before the standby copy", "record", t.Name, "error", err)
					continue
				}
				return obs, fmt.Errorf("observe weights of %s: %w", t.Name, err)
			}
			obs.Split[t.Name] = s
		}
	}
	return obs, nil
}

func (e Env) observeStatefulSet(ctx context.Context, ref plan.StatefulSetRef) (plan.StatefulSetObserved, bool, error) {
	so := plan.StatefulSetObserved{Namespace: ref.Namespace, Name: ref.Name}
	sts, err := e.Source.AppsV1().StatefulSets(ref.Namespace).Get(ctx, ref.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return so, false, nil
	}
	if err != nil {
		return so, false, fmt.Errorf("get statefulset %s/%s in %s: %w", ref.Namespace, ref.Name, e.SourceName, err)
	}
	so.Replicas = 1
	if sts.Spec.Replicas != nil {
		so.Replicas = *sts.Spec.Replicas
	}
	if _, err := e.Target.AppsV1().StatefulSets(ref.Namespace).Get(ctx, ref.Name, metav1.GetOptions{}); err == nil {
		so.ExistsInTarget = true
	} else if !apierrors.IsNotFound(err) {
		return so, false, fmt.Errorf("get statefulset %s/%s in %s: %w", ref.Namespace, ref.Name, e.TargetName, err)
	}
	for _, t := range sts.Spec.VolumeClaimTemplates {
		for i := range so.Replicas {
			c, err := e.observeClaim(ctx, ref.Namespace, fmt.Sprintf("%s-%s-%d", t.Name, ref.Name, i))
			if err != nil {
				return so, false, err
			}
			so.Claims = append(so.Claims, c)
		}
	}
	return so, true, nil
}

func (e Env) observeClaim(ctx context.Context, ns, name string) (plan.ClaimObserved, error) {
	c := plan.ClaimObserved{PVC: name}
	pvc, err := e.Source.CoreV1().PersistentVolumeClaims(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return c, fmt.Errorf("get pvc %s/%s in %s (the StatefulSet's replicas should each have one): %w", ns, name, e.SourceName, err)
	}
	if pvc.Status.Phase != corev1.ClaimBound || pvc.Spec.VolumeName == "" {
		return c, fmt.Errorf("pvc %s/%s in %s is %s, not Bound: wait until it binds before migrating", ns, name, e.SourceName, pvc.Status.Phase)
	}
	pv, err := e.Source.CoreV1().PersistentVolumes().Get(ctx, pvc.Spec.VolumeName, metav1.GetOptions{})
	if err != nil {
		return c, fmt.Errorf("get pv %s in %s: %w", pvc.Spec.VolumeName, e.SourceName, err)
	}
	c.PV = pv.Name
	c.StorageClass = pv.Spec.StorageClassName
	c.ReclaimPolicy = string(pv.Spec.PersistentVolumeReclaimPolicy)
	if q, ok := pv.Spec.Capacity[corev1.ResourceStorage]; ok {
		c.Capacity = q.String()
	}
	for _, m := range pv.Spec.AccessModes {
		c.AccessModes = append(c.AccessModes, string(m))
	}
	switch {
	case pv.Spec.CSI != nil && pv.Spec.CSI.Driver == volume.CSIDriver:
		c.Driver, c.VolumeHandle, c.FSType = pv.Spec.CSI.Driver, pv.Spec.CSI.VolumeHandle, pv.Spec.CSI.FSType
	case pv.Spec.AWSElasticBlockStore != nil:
		c.Driver, c.VolumeHandle, c.FSType = "kubernetes.io/aws-ebs", pv.Spec.AWSElasticBlockStore.VolumeID, pv.Spec.AWSElasticBlockStore.FSType
	}
	c.VolumeID = plan.NormalizeVolumeID(c.VolumeHandle)
	if c.FSType == "" && c.VolumeID != "" {
		c.FSType = "ext4"
	}
	if c.VolumeID != "" && e.AWS != nil {
		out, err := e.AWS.EC2.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{VolumeIds: []string{c.VolumeID}})
		if err != nil {
			return c, fmt.Errorf("describe volume %s of pv %s: %w", c.VolumeID, pv.Name, err)
		}
		if len(out.Volumes) == 1 {
			c.Zone = aws.ToString(out.Volumes[0].AvailabilityZone)
		}
	}
	return c, nil
}
