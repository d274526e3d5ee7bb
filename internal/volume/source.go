package volume

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/bluegreen/bluegreen/internal/batch"
	"github.com/bluegreen/bluegreen/internal/clock"
	"github.com/bluegreen/bluegreen/internal/engine"
	"github.com/bluegreen/bluegreen/internal/plan"
)

// retain sets every PV of the StatefulSet to Retain and verifies it. The
// undo deliberately keeps Retain: a volume that went through a hand-off
// must never be deleted with its claim, whatever the policy was before.
func (e Env) retain() engine.Action {
	return engine.Action{
		Precondition: e.unchangedShape,
		Capture: func(ctx context.Context, x engine.Exec) (any, error) {
			p, err := params(x)
			if err != nil {
				return nil, err
			}
			before := map[string]string{}
			for _, c := range p.Claims {
				pv, err := e.Source.CoreV1().PersistentVolumes().Get(ctx, c.PV, metav1.GetOptions{})
				if err != nil {
					return nil, fmt.Errorf("get pv %s in %s: %w", c.PV, e.SourceName, kerr(err))
				}
				before[c.PV] = string(pv.Spec.PersistentVolumeReclaimPolicy)
			}
			return before, nil
		},
		Do: func(ctx context.Context, x engine.Exec) (any, error) {
			p, err := params(x)
			if err != nil {
				return nil, err
			}
			patch := []byte(`{"spec":{"persistentVolumeReclaimPolicy":"Retain"}}`)
			for _, c := range p.Claims {
				if _, err := e.Source.CoreV1().PersistentVolumes().Patch(ctx, c.PV, types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
					return nil, fmt.Errorf("set pv %s Retain in %s: %w", c.PV, e.SourceName, kerr(err))
				}
			}
			return nil, nil
		},
		Verify: func(ctx context.Context, x engine.Exec) error {
			p, err := params(x)
			if err != nil {
				return err
			}
			return e.verifyRetain(ctx, p)
		},
	}
}

// verifyRetain reads every PV back from A and fails unless it is Retain.
func (e Env) verifyRetain(ctx context.Context, p plan.HandoffParams) error {
	for _, c := range p.Claims {
		pv, err := e.Source.CoreV1().PersistentVolumes().Get(ctx, c.PV, metav1.GetOptions{})
		if err != nil {
			return fmt.Errorf("get pv %s in %s: %w", c.PV, e.SourceName, kerr(err))
		}
		if pv.Spec.PersistentVolumeReclaimPolicy != corev1.PersistentVolumeReclaimRetain {
			return fmt.Errorf("pv %s in %s is %s: %w", c.PV, e.SourceName, pv.Spec.PersistentVolumeReclaimPolicy, ErrNotRetain)
		}
	}
	return nil
}

// scaleSource scales the StatefulSet in A to 0 and waits until its pods are
// gone; the undo scales it back and waits until it is Ready again.
func (e Env) scaleSource() engine.Action {
	return engine.Action{
		Precondition: e.unchangedShape,
		Capture: func(ctx context.Context, x engine.Exec) (any, error) {
			p, err := params(x)
			if err != nil {
				return nil, err
			}
			s, err := e.Source.AppsV1().StatefulSets(p.Namespace).Get(ctx, p.Name, metav1.GetOptions{})
			if err != nil {
				return nil, fmt.Errorf("get statefulset %s/%s in %s: %w", p.Namespace, p.Name, e.SourceName, kerr(err))
			}
			if s.Spec.Replicas == nil || *s.Spec.Replicas == 0 {
				return p.Replicas, nil // a resumed step already scaled it: the plan knows the count
			}
			return *s.Spec.Replicas, nil
		},
		Do: func(ctx context.Context, x engine.Exec) (any, error) {
			p, err := params(x)
			if err != nil {
				return nil, err
			}
			return nil, e.scale(ctx, e.Source, e.SourceName, p, 0)
		},
		Undo: func(ctx context.Context, x engine.Exec) error {
			p, err := params(x)
			if err != nil {
				return err
			}
			var replicas int32
			if err := x.Step.DecodeBefore(&replicas); err != nil {
				return err
			}
			return e.scale(ctx, e.Source, e.SourceName, p, replicas)
		},
	}
}

// waitDetached waits until EC2 reports every volume available. At the
// timeout it force-detaches when asked, and otherwise fails with a
// Multi-Attach diagnosis naming the instance and node holding the volume.
func (e Env) waitDetached() engine.Action {
	return engine.Action{Do: func(ctx context.Context, x engine.Exec) (any, error) {
		p, err := params(x)
		if err != nil {
			return nil, err
		}
		vols := volumeIDs(p)
		err = e.waitAvailable(ctx, vols, p.Timeout.D())
		if err == nil || !p.ForceDetach || ctx.Err() != nil {
			if err != nil {
				return nil, e.diagnose(ctx, vols, err)
			}
			return nil, nil
		}
		if err := e.forceable(ctx, vols); err != nil {
			return nil, err
		}
		for _, v := range vols {
			e.Log.Warn("force-detaching volume still attached at the timeout", "volume", v)
			if _, ferr := e.EC2.DetachVolume(ctx, &ec2.DetachVolumeInput{VolumeId: aws.String(v), Force: aws.Bool(true)}); ferr != nil && !strings.Contains(ferr.Error(), "IncorrectState") {
				return nil, fmt.Errorf("force-detach %s: %w", v, awsWrite(ferr))
			}
		}
		if err := e.waitAvailable(ctx, vols, p.Timeout.D()); err != nil {
			return nil, e.diagnose(ctx, vols, err)
		}
		return map[string]bool{"forced": true}, nil
	}}
}

// forceable refuses a force-detach unless every instance still holding a
// volume is a node of A. The StatefulSet was stopped in A, so a writer on
// A's node is known to be gone; on any other instance (B's node running
// the database already, a machine outside both clusters) a forced detach
// would pull the disk from under a live writer and corrupt its file system.
func (e Env) forceable(ctx context.Context, vols []string) error {
	out, err := e.EC2.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{VolumeIds: vols})
	if err != nil {
		return fmt.Errorf("describe volumes %s before force-detaching: %w", strings.Join(vols, ", "), awsWrite(err))
	}
	src, err := nodesByInstance(ctx, e.Source)
	if err != nil {
		return err
	}
	dst, _ := nodesByInstance(ctx, e.Target)
	var foreign []string
	for _, v := range out.Volumes {
		for _, a := range v.Attachments {
			inst := aws.ToString(a.InstanceId)
			if _, ok := src[inst]; ok {
				continue
			}
			where := "an instance that is a node of neither cluster"
			if n, ok := dst[inst]; ok {
				where = fmt.Sprintf("node %s of %s", n, e.TargetName)
			}
			foreign = append(foreign, fmt.Sprintf("%s is %s on instance %s (%s)", aws.ToString(v.VolumeId), a.State, inst, where))
		}
	}
	if len(foreign) > 0 {
		return fmt.Errorf("refusing to force-detach: %s, not a node of %s, where the StatefulSet was stopped; "+
			"a forced detach could corrupt the data of whatever writes there. Stop what uses the volume on that instance, then resume; nothing was detached or deleted",
			strings.Join(foreign, "; "), e.SourceName)
	}
	return nil
}

func (e Env) waitAvailable(ctx context.Context, vols []string, timeout time.Duration) error {
	var failed batch.Misses
	return clock.Poll(ctx, e.clk(), e.poll(), timeout, func(ctx context.Context) (bool, error) {
		got, err := e.reads.volumes.Get(ctx, vols)
		if err != nil {
			return false, failed.Tolerate(err)
		}
		failed = 0
		if err := allFound(got, vols); err != nil {
			return false, err
		}
		for _, v := range got {
			if v.State != ec2types.VolumeStateAvailable {
				return false, nil
			}
		}
		return true, nil
	})
}

// diagnose explains why volumes are not available: which instance, and
// which node of which cluster, still holds each one.
func (e Env) diagnose(ctx context.Context, vols []string, cause error) error {
	out, err := e.EC2.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{VolumeIds: vols})
	if err != nil {
		return fmt.Errorf("volumes %s not available: %w (describe volumes: %w)", strings.Join(vols, ", "), cause, err)
	}
	src, _ := nodesByInstance(ctx, e.Source)
	dst, _ := nodesByInstance(ctx, e.Target)
	var held []string
	for _, v := range out.Volumes {
		for _, a := range v.Attachments {
			inst := aws.ToString(a.InstanceId)
			where := "an instance of neither cluster"
			if n, ok := src[inst]; ok {
				where = fmt.Sprintf("node %s of %s", n, e.SourceName)
			} else if n, ok := dst[inst]; ok {
				where = fmt.Sprintf("node %s of %s", n, e.TargetName)
			}
			held = append(held, fmt.Sprintf("%s is %s on instance %s (%s)", aws.ToString(v.VolumeId), a.State, inst, where))
		}
	}
	return fmt.Errorf("Multi-Attach: %s: %w; nothing was deleted. Find what still uses it (kubectl get volumeattachments, pods on that node), "+
		"or rerun with --force-detach (EBS itself forces a stuck detach only after about 6–7 minutes)", strings.Join(held, "; "), cause)
}

// tag marks the volumes for B's EBS CSI driver. Harmless to keep, so the
// undo leaves the tag.
func (e Env) tag() engine.Action {
	return engine.Action{Do: func(ctx context.Context, x engine.Exec) (any, error) {
		p, err := params(x)
		if err != nil {
			return nil, err
		}
		_, err = e.EC2.CreateTags(ctx, &ec2.CreateTagsInput{Resources: volumeIDs(p),
			Tags: []ec2types.Tag{{Key: aws.String(plan.CSITagKey), Value: aws.String("true")}}})
		if err != nil {
			return nil, fmt.Errorf("tag volumes %v: %w", volumeIDs(p), awsWrite(err))
		}
		return nil, nil
	}}
}

// releaseClaims deletes the StatefulSet's claims in A, but only after every
// PV is verified Retain (checked again right before the delete). The undo
// re-creates each claim bound to its PV.
func (e Env) releaseClaims() engine.Action {
	return engine.Action{
		Precondition: func(ctx context.Context, x engine.Exec) error {
			p, err := params(x)
			if err != nil {
				return err
			}
			return e.verifyRetain(ctx, p)
		},
		Capture: func(ctx context.Context, x engine.Exec) (any, error) {
			p, err := params(x)
			if err != nil {
				return nil, err
			}
			return e.captureClaims(ctx, p)
		},
		Do: func(ctx context.Context, x engine.Exec) (any, error) {
			p, err := params(x)
			if err != nil {
				return nil, err
			}
			if err := e.verifyRetain(ctx, p); err != nil {
				return nil, err
			}
			return nil, e.deleteClaims(ctx, e.Source, e.SourceName, p)
		},
		Undo: func(ctx context.Context, x engine.Exec) error {
			p, err := params(x)
			if err != nil {
				return err
			}
			var claims []corev1.PersistentVolumeClaim
			if err := x.Step.DecodeBefore(&claims); err != nil {
				return err
			}
			return e.restoreClaims(ctx, p, claims)
		},
	}
}

func (e Env) captureClaims(ctx context.Context, p plan.HandoffParams) ([]corev1.PersistentVolumeClaim, error) {
	var out []corev1.PersistentVolumeClaim
	for _, c := range p.Claims {
		pvc, err := e.Source.CoreV1().PersistentVolumeClaims(p.Namespace).Get(ctx, c.PVC, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			// Resumed after the delete: rebuild the claim from the plan.
			pvc = claimFromPlan(p, c)
		} else if err != nil {
			return nil, fmt.Errorf("get pvc %s/%s in %s: %w", p.Namespace, c.PVC, e.SourceName, kerr(err))
		}
		out = append(out, portableClaim(pvc, c.PV))
	}
	return out, nil
}
