package testbed

import (
	"context"
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"sigs.k8s.io/yaml"
)

// ApplyCRD applies a CustomResourceDefinition (YAML) server-side and
// waits until the API server serves its first version.
func ApplyCRD(ctx context.Context, dyn dynamic.Interface, data []byte) error {
	u := &unstructured.Unstructured{}
	if err := yaml.Unmarshal(data, &u.Object); err != nil {
		return fmt.Errorf("decode CRD: %w", err)
	}
	js, err := u.MarshalJSON()
	if err != nil {
		return err
	}
	crds := schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}
	force := true
	if _, err := dyn.Resource(crds).Patch(ctx, u.GetName(), types.ApplyPatchType, js, metav1.PatchOptions{FieldManager: "testbed", Force: &force}); err != nil {
		return fmt.Errorf("apply CRD %s: %w", u.GetName(), err)
	}
	group, _, _ := unstructured.NestedString(u.Object, "spec", "group")
	plural, _, _ := unstructured.NestedString(u.Object, "spec", "names", "plural")
	versions, _, _ := unstructured.NestedSlice(u.Object, "spec", "versions")
	if len(versions) == 0 {
		return fmt.Errorf("CRD %s has no versions", u.GetName())
	}
	v, _ := versions[0].(map[string]any)
	gvr := schema.GroupVersionResource{Group: group, Version: fmt.Sprint(v["name"]), Resource: plural}
	wctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := WaitFor(wctx, func(ctx context.Context) (bool, error) {
		_, err := dyn.Resource(gvr).List(ctx, metav1.ListOptions{Limit: 1})
		return err == nil, nil
	}); err != nil {
		return fmt.Errorf("CRD %s is not served: %w", u.GetName(), err)
	}
	return nil
}
