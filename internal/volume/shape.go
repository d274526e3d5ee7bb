package volume

import (
	"context"
	"fmt"
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/bluegreen/bluegreen/internal/engine"
)

// unchangedShape re-reads the StatefulSet in A and fails unless its
// replicas and claim templates are still those the plan was made from.
// The plan names every claim (template × ordinal) it hands off; a
// StatefulSet that grew between planning and its lane would otherwise
// leave the new ordinals' volumes behind in A, on PVs still Delete, with
// claims nobody releases. Retain and scale-source check it, the last steps
// before A stops writing: a failure there rolls the run back with nothing
// handed off.
func (e Env) unchangedShape(ctx context.Context, x engine.Exec) error {
	p, err := params(x)
	if err != nil {
		return err
	}
	sts, err := e.Source.AppsV1().StatefulSets(p.Namespace).Get(ctx, p.Name, metav1.GetOptions{})
	if err != nil {
		return fmt.Errorf("get statefulset %s/%s in %s: %w", p.Namespace, p.Name, e.SourceName, kerr(err))
	}
	replicas := int32(1)
	if sts.Spec.Replicas != nil {
		replicas = *sts.Spec.Replicas
	}
	var want, got []string
	for _, c := range p.Claims {
		want = append(want, c.PVC)
	}
	for _, t := range sts.Spec.VolumeClaimTemplates {
		for i := range replicas {
			got = append(got, fmt.Sprintf("%s-%s-%d", t.Name, p.Name, i))
		}
	}
	slices.Sort(want)
	slices.Sort(got)
	if replicas == p.Replicas && slices.Equal(want, got) {
		return nil
	}
	return fmt.Errorf("statefulset %s/%s in %s changed since the plan: replicas %d (planned %d), claims %s (planned %s); "+
		"nothing of it was handed off: let the run roll back, then plan and apply again",
		p.Namespace, p.Name, e.SourceName, replicas, p.Replicas, orNone(got), orNone(want))
}

func orNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}
