package preflight

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// zoneLabels are the node labels that carry the availability zone, the
// current one first.
var zoneLabels = []string{corev1.LabelTopologyZone, corev1.LabelFailureDomainBetaZone}

// checkStorageClass: the static PVs made in B name a storage class, and a
// claim binds to them only if that class exists there.
func checkStorageClass(ctx context.Context, p *probe) Result {
	if len(p.in.Volumes) == 0 {
		return Result{Status: Pass, Detail: "no volumes to hand off"}
	}
	sideB := side("B", p.in.Target)
	kube, err := kubeOf("B", p.in.Target)
	if err != nil {
		return errorResult(err)
	}
	pvsOf := map[string][]string{} // class -> PVs
	var unnamed []string
	for _, v := range p.in.Volumes {
		if v.StorageClass == "" {
			unnamed = append(unnamed, v.PV)
			continue
		}
		pvsOf[v.StorageClass] = append(pvsOf[v.StorageClass], v.PV)
	}
	var found, missing, foreign []string
	for _, class := range slices.Sorted(maps.Keys(pvsOf)) {
		sc, err := kube.StorageV1().StorageClasses().Get(ctx, class, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
			missing = append(missing, fmt.Sprintf("%s (for %s)", class, strings.Join(pvsOf[class], ", ")))
		case err != nil:
			return kubeError(sideB, "get storage class "+class, err)
		case sc.Provisioner != ebsCSIDriver:
			foreign = append(foreign, fmt.Sprintf("%s (provisioner %s)", class, sc.Provisioner))
		default:
			found = append(found, class)
		}
	}
	if len(missing) > 0 {
		return Result{Status: Fail, Detail: fmt.Sprintf("%s has no storage class %s", sideB, strings.Join(missing, ", ")),
			Hint: fmt.Sprintf("create the class in %s with provisioner %s and the parameters it has in A (kubectl get storageclass <name> -o yaml), "+
				"or name an existing class of B for these volumes", sideB, ebsCSIDriver)}
	}
	if len(foreign) > 0 || len(unnamed) > 0 {
		var parts []string
		if len(foreign) > 0 {
			parts = append(parts, fmt.Sprintf("storage classes of %s not provisioned by %s: %s", sideB, ebsCSIDriver, strings.Join(foreign, ", ")))
		}
		if len(unnamed) > 0 {
			parts = append(parts, "no storage class named for "+strings.Join(unnamed, ", "))
		}
		return Result{Status: Warn, Detail: strings.Join(parts, "; "),
			Hint: fmt.Sprintf("prefer a class of %s with provisioner %s, so that resizes and new volumes use the same driver as the handed-off ones", sideB, ebsCSIDriver)}
	}
	return Result{Status: Pass, Detail: fmt.Sprintf("%s has storage classes %s", sideB, strings.Join(found, ", "))}
}

// checkVolumeZones: an EBS volume attaches only to an instance in its own
// availability zone, so B needs a schedulable node in the zone of every
// handed-off volume.
func checkVolumeZones(ctx context.Context, p *probe) Result {
	if len(p.in.Volumes) == 0 {
		return Result{Status: Pass, Detail: "no volumes to hand off"}
	}
	sideB := side("B", p.in.Target)
	if p.in.AWS == nil || p.in.AWS.EC2 == nil {
		return errorResult(errNoClient("EC2"))
	}
	kube, err := kubeOf("B", p.in.Target)
	if err != nil {
		return errorResult(err)
	}
	ids := make([]string, len(p.in.Volumes))
	for i, v := range p.in.Volumes {
		ids[i] = volumeID(v.VolumeID)
	}
	out, err := p.in.AWS.EC2.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{VolumeIds: ids})
	if err != nil {
		return errorResult(apiError("ec2:DescribeVolumes", strings.Join(ids, ","), err))
	}
	zoneOf := map[string]string{}
	for _, v := range out.Volumes {
		zoneOf[aws.ToString(v.VolumeId)] = aws.ToString(v.AvailabilityZone)
	}
	nodes, err := kube.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return kubeError(sideB, "list nodes", err)
	}
	nodesIn := map[string]int{}
	for _, n := range nodes.Items {
		if zone := nodeZone(n); zone != "" && schedulable(n) {
			nodesIn[zone]++
		}
	}
	var zones []string
	for _, z := range slices.Sorted(maps.Keys(nodesIn)) {
		zones = append(zones, fmt.Sprintf("%s (%d)", z, nodesIn[z]))
	}
	var ok, bad []string
	badZones := map[string]bool{}
	for i, v := range p.in.Volumes {
		zone := zoneOf[ids[i]]
		s := fmt.Sprintf("%s (PV %s) in %s", ids[i], v.PV, orNone(zone))
		if nodesIn[zone] == 0 {
			bad = append(bad, s)
			badZones[orNone(zone)] = true
		} else {
			ok = append(ok, s)
		}
	}
	if len(bad) > 0 {
		return Result{Status: Fail,
			Detail: fmt.Sprintf("%s: no schedulable node of %s in that zone; %s's nodes are in %s", strings.Join(bad, ", "), sideB, sideB, orNone(strings.Join(zones, ", "))),
			Hint: fmt.Sprintf("add nodes to %s in %s (a node group or node pool with a subnet there): an EBS volume attaches only to an instance in its own zone",
				sideB, strings.Join(slices.Sorted(maps.Keys(badZones)), ", "))}
	}
	return Result{Status: Pass, Detail: fmt.Sprintf("%s; %s's nodes are in %s", strings.Join(ok, ", "), sideB, strings.Join(zones, ", "))}
}

// volumeID accepts the in-tree form aws://us-east-1a/vol-… too.
func volumeID(id string) string {
	if i := strings.LastIndex(id, "/"); i >= 0 {
		return id[i+1:]
	}
	return id
}

func nodeZone(n corev1.Node) string {
	for _, l := range zoneLabels {
		if z := n.Labels[l]; z != "" {
			return z
		}
	}
	return ""
}

// schedulable reports whether new pods can land on n: Ready and not
// cordoned.
func schedulable(n corev1.Node) bool {
	if n.Spec.Unschedulable {
		return false
	}
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}
