package runstore

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"sigs.k8s.io/yaml"

	"github.com/bluegreen/bluegreen/deploy"
	"github.com/bluegreen/bluegreen/internal/clock"
)

// The BlueGreenRun resource.
var (
	GVR    = schema.GroupVersionResource{Group: "bluegreen.dev", Version: "v1alpha1", Resource: "bluegreenruns"}
	crdGVR = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}
)

// CRDName is the BlueGreenRun CustomResourceDefinition's name.
const CRDName = "bluegreenruns.bluegreen.dev"

// fieldManager owns the fields bluegreen writes.
const fieldManager = "bluegreen"

// ErrNoCRD means the cluster does not serve BlueGreenRuns and bluegreen
// may not install them.
var ErrNoCRD = errors.New("the cluster has no BlueGreenRun resource")

// CRD returns the shipped CustomResourceDefinition.
func CRD() (*unstructured.Unstructured, error) {
	data, err := fs.ReadFile(deploy.CRDs, "crds/bluegreen.dev_bluegreenruns.yaml")
	if err != nil {
		return nil, fmt.Errorf("read the embedded CRD: %w", err)
	}
	u := &unstructured.Unstructured{}
	if err := yaml.Unmarshal(data, &u.Object); err != nil {
		return nil, fmt.Errorf("decode the embedded CRD: %w", err)
	}
	return u, nil
}

// EnsureCRD installs or updates the BlueGreenRun CRD by server-side apply
// and waits until the API server serves it. Without the permission to, it
// returns ErrNoCRD with the command a cluster admin runs instead.
func EnsureCRD(ctx context.Context, clk clock.Clock, dyn dynamic.Interface) error {
	crd, err := CRD()
	if err != nil {
		return err
	}
	data, err := crd.MarshalJSON()
	if err != nil {
		return err
	}
	force := true
	_, err = dyn.Resource(crdGVR).Patch(ctx, CRDName, types.ApplyPatchType, data, metav1.PatchOptions{FieldManager: fieldManager, Force: &force})
	if apierrors.IsForbidden(err) {
		return fmt.Errorf("%w, and this user may not install it (%w): ask a cluster admin to run `kubectl apply --server-side -f deploy/crds/` from the bluegreen repository, once per cluster",
			ErrNoCRD, err)
	}
	if err != nil {
		return fmt.Errorf("install CRD %s: %w", CRDName, err)
	}
	return clock.Poll(ctx, clk, 100*time.Millisecond, 30*time.Second, func(ctx context.Context) (bool, error) {
		u, err := dyn.Resource(crdGVR).Get(ctx, CRDName, metav1.GetOptions{})
		if err != nil {
			return false, fmt.Errorf("read CRD %s: %w", CRDName, err)
		}
		conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
		for _, c := range conds {
			m, _ := c.(map[string]any)
			if m["type"] == "Established" && m["status"] == "True" {
				return true, nil
			}
		}
		return false, nil
	})
}
