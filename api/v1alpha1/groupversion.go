package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// GroupVersion is the API's group and version.
var GroupVersion = schema.GroupVersion{Group: "bluegreen.dev", Version: "v1alpha1"}

// AddToScheme adds the API's types to a scheme. The package depends on
// apimachinery alone, so that anyone can import it.
func AddToScheme(s *runtime.Scheme) error {
	s.AddKnownTypes(GroupVersion, &BlueGreenRelease{}, &BlueGreenReleaseList{})
	metav1.AddToGroupVersion(s, GroupVersion)
	return nil
}
