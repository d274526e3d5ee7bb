package migrate

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/bluegreen/bluegreen/internal/engine"
	"github.com/bluegreen/bluegreen/internal/journal"
	"github.com/bluegreen/bluegreen/internal/plan"
	"github.com/bluegreen/bluegreen/internal/volume"
)

// Item is one line of the verification checklist, checked by the tool.
type Item struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail"`
}

// ErrChecklist means an item of the verification checklist does not hold.
var ErrChecklist = errors.New("verification checklist failed")

// checklist checks the runbook's closing list: all traffic on B, every
// handed-off StatefulSet Ready in B on its own volumes, PVs Retain, volumes
// in-use by B's nodes and never deleted, snapshots completed, the source
// StatefulSets stopped, internal CNAMEs on B, and the checks passing.
func (e Env) checklist() engine.Action {
	return engine.Action{Do: func(ctx context.Context, x engine.Exec) (any, error) {
		items := e.verify(ctx, x.Run)
		var bad []string
		for _, it := range items {
			if !it.OK {
				bad = append(bad, it.Name+": "+it.Detail)
			}
		}
		if len(bad) > 0 {
			return items, fmt.Errorf("%w: %s", ErrChecklist, strings.Join(bad, "; "))
		}
		return items, nil
	}}
}

// Verify runs the checklist of a run on its own, for `migrate status`.
func (e Env) Verify(ctx context.Context, r *journal.Run) []Item { return e.verify(ctx, r) }

func (e Env) verify(ctx context.Context, r *journal.Run) []Item {
	var items []Item
	add := func(name string, ok bool, format string, a ...any) {
		items = append(items, Item{Name: name, OK: ok, Detail: fmt.Sprintf(format, a...)})
	}
	for _, t := range e.Records {
		got, err := e.Router.Observe(ctx, t)
		if err != nil {
			add("traffic "+t.Name, false, "observe: %v", err)
			continue
		}
		add("traffic "+t.Name, got[string(plan.Green)] == 100, "weights %s", got)
	}
	for i := range r.Steps {
		s := &r.Steps[i]
		switch s.Kind {
		case plan.KindApplyTarget:
			var p plan.HandoffParams
			if err := s.DecodeParams(&p); err != nil {
				add("statefulset", false, "%v", err)
				continue
			}
			items = append(items, e.verifyHandoff(ctx, r, p)...)
		case plan.KindRepointCNAME:
			var p plan.CNAMEParams
			if err := s.DecodeParams(&p); err != nil {
				continue
			}
			v, err := e.cnameValue(ctx, p.CNAME)
			add("cname "+p.CNAME.Name, err == nil && sameName(v, p.CNAME.Green), "points at %q (want %q) %v", v, p.CNAME.Green, errText(err))
		case plan.KindStandbyReady:
			if err := e.standbyReadyNow(ctx, r); err != nil {
				add("standby workloads ready in "+e.TargetName, false, "%v", err)
			} else {
				add("standby workloads ready in "+e.TargetName, true, "every Deployment rolled out")
			}
		}
	}
	if len(e.Checks) > 0 || len(e.TargetLoadBalancers) > 0 {
		res, err := e.runChecks(ctx, "verify")
		add("checks", err == nil, "%d checks passed %v", len(res), errText(err))
	}
	return items
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return "(" + err.Error() + ")"
}

func (e Env) verifyHandoff(ctx context.Context, r *journal.Run, p plan.HandoffParams) []Item {
	key := p.Namespace + "/" + p.Name
	var items []Item
	add := func(name string, ok bool, format string, a ...any) {
		items = append(items, Item{Name: name + " " + key, OK: ok, Detail: fmt.Sprintf(format, a...)})
	}
	sts, err := e.Target.AppsV1().StatefulSets(p.Namespace).Get(ctx, p.Name, metav1.GetOptions{})
	if err != nil {
		add("statefulset ready in "+e.TargetName, false, "%v", err)
	} else {
		add("statefulset ready in "+e.TargetName, sts.Status.ReadyReplicas == p.Replicas, "%d/%d ready", sts.Status.ReadyReplicas, p.Replicas)
	}
	if src, err := e.Source.AppsV1().StatefulSets(p.Namespace).Get(ctx, p.Name, metav1.GetOptions{}); err == nil {
		n := int32(1)
		if src.Spec.Replicas != nil {
			n = *src.Spec.Replicas
		}
		add("statefulset stopped in "+e.SourceName, n == 0 && src.Status.Replicas == 0, "replicas %d, pods %d", n, src.Status.Replicas)
	}
	vols := make([]string, 0, len(p.Claims))
	for _, c := range p.Claims {
		vols = append(vols, c.VolumeID)
		pvc, err := e.Target.CoreV1().PersistentVolumeClaims(p.Namespace).Get(ctx, c.PVC, metav1.GetOptions{})
		bound := false
		if err == nil {
			bound, err = volume.BoundTo(ctx, e.Target, c.PV, pvc)
		}
		add("claim "+c.PVC+" bound to "+c.PV+" in "+e.TargetName, bound, "%s", claimDetail(pvc, err))
		pv, err := e.Target.CoreV1().PersistentVolumes().Get(ctx, c.PV, metav1.GetOptions{})
		ok := err == nil && pv.Spec.PersistentVolumeReclaimPolicy == corev1.PersistentVolumeReclaimRetain &&
			pv.Spec.CSI != nil && plan.NormalizeVolumeID(pv.Spec.CSI.VolumeHandle) == c.VolumeID
		add("pv "+c.PV+" Retain on "+c.VolumeID+" in "+e.TargetName, ok, "%s", pvDetail(pv, err))
	}
	nodes := map[string]string{}
	if list, err := e.Target.CoreV1().Nodes().List(ctx, metav1.ListOptions{ResourceVersion: "0"}); err == nil {
		for _, n := range list.Items {
			if i := strings.LastIndex(n.Spec.ProviderID, "/"); i >= 0 {
				nodes[n.Spec.ProviderID[i+1:]] = n.Name
			}
		}
	}
	out, err := e.AWS.EC2.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{VolumeIds: vols})
	if err != nil {
		add("volumes exist and in-use by nodes of "+e.TargetName, false, "describe volumes: %v", err)
		return items
	}
	for _, v := range out.Volumes {
		id := aws.ToString(v.VolumeId)
		holder := ""
		for _, a := range v.Attachments {
			if n, ok := nodes[aws.ToString(a.InstanceId)]; ok && a.State == ec2types.VolumeAttachmentStateAttached {
				holder = aws.ToString(a.InstanceId) + " (node " + n + ")"
			}
		}
		add("volume "+id+" in-use by a node of "+e.TargetName, v.State == ec2types.VolumeStateInUse && holder != "", "%s %s", v.State, holder)
	}
	add("volumes never deleted", len(out.Volumes) == len(vols), "%d of %d volumes exist", len(out.Volumes), len(vols))
	if r.Step("handoff/"+key+"/snapshot") != nil {
		snaps, err := e.AWS.EC2.DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{OwnerIds: []string{"self"}, Filters: []ec2types.Filter{
			{Name: aws.String("tag:" + volume.RunLabel), Values: []string{r.ID}},
			{Name: aws.String("volume-id"), Values: vols},
		}})
		var missing []string
		if err == nil {
			missing = withoutCompletedSnapshot(snaps.Snapshots, vols)
		}
		add("snapshots completed", err == nil && len(missing) == 0, "%d of %d volumes have a completed snapshot%s %v",
			len(vols)-len(missing), len(vols), listed(", missing: ", missing), errText(err))
	}
	return items
}

// withoutCompletedSnapshot returns the volumes that have no completed
// snapshot among snaps. It counts volumes, not snapshots: two snapshots of
// one volume (one replaced after an error) do not stand in for another
// volume's.
func withoutCompletedSnapshot(snaps []ec2types.Snapshot, vols []string) []string {
	done := map[string]bool{}
	for _, s := range snaps {
		if s.State == ec2types.SnapshotStateCompleted {
			done[aws.ToString(s.VolumeId)] = true
		}
	}
	var missing []string
	for _, v := range vols {
		if !done[v] {
			missing = append(missing, v)
		}
	}
	return missing
}

func listed(prefix string, s []string) string {
	if len(s) == 0 {
		return ""
	}
	return prefix + strings.Join(s, ", ")
}

func claimDetail(pvc *corev1.PersistentVolumeClaim, err error) string {
	if err != nil {
		return err.Error()
	}
	return fmt.Sprintf("%s, volumeName %s", pvc.Status.Phase, pvc.Spec.VolumeName)
}

func pvDetail(pv *corev1.PersistentVolume, err error) string {
	if err != nil {
		return err.Error()
	}
	handle := ""
	if pv.Spec.CSI != nil {
		handle = pv.Spec.CSI.VolumeHandle
	}
	return fmt.Sprintf("%s, %s, volume %s", pv.Spec.PersistentVolumeReclaimPolicy, pv.Status.Phase, handle)
}
