package runstore

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"

	"github.com/bluegreen/bluegreen/internal/journal"
)

// Latest returns the newest run of each app (per scope) recorded in
// namespace ns of the cluster whose identity is cluster, or in every
// namespace when ns is empty, newest first. The records are read as they
// are stored: values moved into a run's Secret stay references, so Latest
// needs no access to Secrets; it is for listing, not for acting.
func Latest(ctx context.Context, dyn dynamic.Interface, ns, cluster string) ([]*journal.Run, error) {
	list, err := dyn.Resource(GVR).Namespace(ns).List(ctx, metav1.ListOptions{LabelSelector: LabelCluster + "=" + cluster})
	if apierrors.IsNotFound(err) {
		return nil, nil // no CRD: no runs
	}
	if err != nil {
		where := "every namespace"
		if ns != "" {
			where = "namespace " + ns
		}
		return nil, fmt.Errorf("list runs in %s: %w", where, err)
	}
	items := list.Items
	slices.SortFunc(items, func(a, b unstructured.Unstructured) int { return strings.Compare(b.GetName(), a.GetName()) })
	seen := map[string]bool{}
	var out []*journal.Run
	for i := range items {
		rec, ok, _ := unstructured.NestedMap(items[i].Object, "status", "record")
		if !ok {
			continue
		}
		data, err := json.Marshal(rec)
		if err != nil {
			continue
		}
		var r journal.Run
		if json.Unmarshal(data, &r) != nil {
			continue
		}
		key := items[i].GetNamespace() + "/" + string(r.Scope) + "/" + r.App
		if seen[key] {
			continue
		}
		seen[key] = true
		out = append(out, &r)
	}
	return out, nil
}
