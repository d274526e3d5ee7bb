package plan

import (
	"fmt"
	"slices"
	"strings"

	"github.com/bluegreen/bluegreen/internal/journal"
)

// CSITagKey is the tag the EBS CSI driver's restricted IAM policy requires
// on volumes it may attach.
const CSITagKey = "ebs.csi.aws.com/cluster"

// handoffSteps is the runbook of one StatefulSet's volume hand-off, all in
// one lane named after it.
func handoffSteps(obs MigrationObserved, m Migration, ref StatefulSetRef, o StatefulSetObserved) ([]journal.Step, error) {
	key := ref.Namespace + "/" + ref.Name
	if o.ExistsInTarget {
		return nil, invalid("statefulset %s already exists in %s: the hand-off would run two copies on one volume; delete it there or drop it from statefulSets", key, m.Target.Context)
	}
	if o.Replicas < 1 {
		return nil, invalid("statefulset %s has 0 replicas in %s: nothing holds its volumes' claims in a known state; scale it up first", key, m.Source.Context)
	}
	if len(o.Claims) == 0 {
		return nil, invalid("statefulset %s has no bound claims: it has no volume to hand off; move it with the stateless workloads instead", key)
	}
	var vols []string
	for _, c := range o.Claims {
		if c.VolumeID == "" {
			return nil, invalid("pv %s of %s/%s is not an EBS volume (neither a csi volumeHandle of ebs.csi.aws.com nor awsElasticBlockStore): only EBS volumes can be handed off", c.PV, ref.Namespace, c.PVC)
		}
		if c.Zone != "" && len(obs.TargetZones) > 0 && !slices.Contains(obs.TargetZones, c.Zone) {
			return nil, invalid("volume %s of pv %s is in %s, where %s has no nodes (zones %s): add nodes in %s to the target cluster", c.VolumeID, c.PV, c.Zone, m.Target.Context, strings.Join(obs.TargetZones, ", "), c.Zone)
		}
		vols = append(vols, c.VolumeID)
	}
	p := HandoffParams{Namespace: ref.Namespace, Name: ref.Name, Replicas: o.Replicas, Claims: o.Claims,
		StorageClass: ref.StorageClass, Timeout: m.Handoff.ReadyTimeout, ForceDetach: m.Handoff.ForceDetach}
	volList := strings.Join(vols, ", ")
	sts := "statefulset/" + key
	name := func(s string) string { return "handoff/" + key + "/" + s }
	var steps []journal.Step
	add := func(s journal.Step) { s.Lane = key; steps = append(steps, s) }

	var retainMuts []journal.Mutation
	for _, c := range o.Claims {
		if c.ReclaimPolicy != "Retain" {
			retainMuts = append(retainMuts, mut("pv/"+c.PV, "persistentVolumeReclaimPolicy %s → Retain (in %s)", c.ReclaimPolicy, m.Source.Context))
		}
	}
	add(step(name("retain"), KindRetain, fmt.Sprintf("Make %s's PVs Retain and verify", key), p, retainMuts...))
	if *m.Handoff.Snapshot {
		sp := p
		sp.Timeout = m.Handoff.SnapshotTimeout
		add(step(name("snapshot"), KindSnapshot, fmt.Sprintf("Snapshot %s and wait until completed (timeout %s)", volList, m.Handoff.SnapshotTimeout), sp,
			mut("volumes/"+volList, "create snapshot (kept after the migration)")))
	}
	add(step(name("scale-source"), KindScaleSource, fmt.Sprintf("Scale %s to 0 in %s and wait until its pods are gone", key, m.Source.Context), p,
		mut(sts, "replicas %d → 0 (in %s)", o.Replicas, m.Source.Context)))
	wp := p
	wp.Timeout = m.Handoff.DetachTimeout
	detachDesc := fmt.Sprintf("Wait until EC2 reports %s available (timeout %s)", volList, m.Handoff.DetachTimeout)
	var detachMuts []journal.Mutation
	if m.Handoff.ForceDetach {
		detachDesc += ", then force-detach"
		detachMuts = append(detachMuts, mut("volumes/"+volList, "force-detach if still attached at the timeout"))
	}
	add(step(name("wait-detached"), KindWaitDetached, detachDesc, wp, detachMuts...))
	if *m.Handoff.TagForCSI {
		add(step(name("tag"), KindTagVolumes, fmt.Sprintf("Tag %s %s=true for %s's EBS CSI driver", volList, CSITagKey, m.Target.Context), p,
			mut("volumes/"+volList, "tag %s=true", CSITagKey)))
	}
	var relMuts, pvMuts []journal.Mutation
	for _, c := range o.Claims {
		relMuts = append(relMuts, mut("persistentvolumeclaim/"+ref.Namespace+"/"+c.PVC, "delete in %s (pv %s verified Retain; volume kept)", m.Source.Context, c.PV))
		sc := c.StorageClass
		if ref.StorageClass != "" {
			sc = ref.StorageClass
		}
		pvMuts = append(pvMuts, mut("pv/"+c.PV, "create in %s: volume %s, %s, storageClass %s, zone %s, claimRef %s/%s, Retain", m.Target.Context, c.VolumeID, c.Capacity, orNone(sc), orNone(c.Zone), ref.Namespace, c.PVC))
	}
	add(step(name("release-claims"), KindReleaseClaims, fmt.Sprintf("Delete %s's claims in %s once their PVs are verified Retain", key, m.Source.Context), p, relMuts...))
	add(step(name("static-pv"), KindStaticPV, fmt.Sprintf("Create static PVs for %s in %s", volList, m.Target.Context), p, pvMuts...))
	add(step(name("apply-target"), KindApplyTarget, fmt.Sprintf("Create %s in %s with %d %s and wait until Ready", key, m.Target.Context, o.Replicas, plural(int(o.Replicas), "replica", "replicas")), p,
		mut(sts, "create in %s, replicas %d", m.Target.Context, o.Replicas)))
	add(step(name("verify-attached"), KindVerifyAttached, fmt.Sprintf("Verify EC2 shows %s in-use by nodes of %s", volList, m.Target.Context), p))
	if c := ref.CNAME; c != nil {
		add(step(name("cname"), KindRepointCNAME, fmt.Sprintf("Repoint %s from %s to %s", c.Name, c.Blue, c.Green), CNAMEParams{CNAME: *c},
			mut("record/"+c.Name, "CNAME %s → %s (ttl %d)", c.Blue, c.Green, c.TTL)))
	}
	return steps, nil
}

// NormalizeVolumeID returns the vol-… ID of an EBS volume handle, which is
// either the ID itself or aws://<az>/vol-… (in-tree and older CSI PVs).
func NormalizeVolumeID(handle string) string {
	if i := strings.LastIndex(handle, "/"); i >= 0 {
		handle = handle[i+1:]
	}
	if strings.HasPrefix(handle, "vol-") {
		return handle
	}
	return ""
}
