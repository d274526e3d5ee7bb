package standby

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
)

// Cluster is one side of a copy: a dynamic client and a REST mapper for the
// same API server.
//
// The copy works on unstructured objects rather than typed clients because
// the kinds to copy are data (Selection.Kinds, CRDs included), because a
// typed round trip would add zero values and drop fields the client's
// types do not know (an object written by a newer or older API server), and
// because server-side apply of an unstructured object is the same call for
// every kind. The mapper turns "Deployment" into apps/v1 deployments as the
// cluster serves it.
type Cluster struct {
	// Dynamic reads and applies objects.
	Dynamic dynamic.Interface
	// Mapper maps kinds to resources; it should re-read discovery when a
	// kind is not found (restmapper.DeferredDiscoveryRESTMapper does), so
	// that CRDs created after it was built are found.
	Mapper meta.RESTMapper
	// Survey lists every kind a namespace may hold (Others), deprecated
	// ones included, with the API server's warnings dropped: they are
	// about the API listed ("v1 Endpoints is deprecated"), not about any
	// object, and client-go would log them in the middle of a run's
	// output. Nil: Dynamic.
	Survey dynamic.Interface
}

// NewCluster returns a Cluster for cfg, with a mapper backed by cached
// discovery. It does not contact the API server.
func NewCluster(cfg *rest.Config) (*Cluster, error) {
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("dynamic client for %s: %w", cfg.Host, err)
	}
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("discovery client for %s: %w", cfg.Host, err)
	}
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(dc))
	quiet := rest.CopyConfig(cfg)
	quiet.WarningHandler = rest.NoWarnings{}
	survey, err := dynamic.NewForConfig(quiet)
	if err != nil {
		return nil, fmt.Errorf("dynamic client for %s: %w", cfg.Host, err)
	}
	return &Cluster{Dynamic: dyn, Mapper: mapper, Survey: survey}, nil
}

// ObjectRef names an object in a cluster.
type ObjectRef struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Namespace  string `json:"namespace,omitempty"`
	Name       string `json:"name"`
}

// String returns "<Kind> <namespace>/<name>", or "<Kind> <name>" when
// cluster-scoped, e.g. "Deployment shop/web".
func (r ObjectRef) String() string {
	if r.Namespace == "" {
		return r.Kind + " " + r.Name
	}
	return r.Kind + " " + r.Namespace + "/" + r.Name
}

// GroupVersionKind returns the reference's API group, version and kind.
func (r ObjectRef) GroupVersionKind() schema.GroupVersionKind {
	return schema.FromAPIVersionAndKind(r.APIVersion, r.Kind)
}

// resolveKind maps a kind as a user writes it ("Deployment",
// "deployment", "deployments", "Deployment.apps",
// "HorizontalPodAutoscaler") to the cluster's preferred mapping.
func (c *Cluster) resolveKind(kind string) (*meta.RESTMapping, error) {
	gk := schema.ParseGroupKind(kind)
	gvk, err := c.Mapper.KindFor(schema.GroupVersionResource{Group: gk.Group, Resource: strings.ToLower(gk.Kind)})
	if err != nil {
		return nil, fmt.Errorf("kind %q: %w", kind, err)
	}
	m, err := c.Mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		return nil, fmt.Errorf("kind %q: %w", kind, err)
	}
	return m, nil
}

// mappingFor maps an object read from another cluster to this cluster's
// resource at the same version, which server-side apply needs.
func (c *Cluster) mappingFor(gvk schema.GroupVersionKind) (*meta.RESTMapping, error) {
	m, err := c.Mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		return nil, fmt.Errorf("%s %s is not served: %w", gvk.GroupVersion(), gvk.Kind, err)
	}
	return m, nil
}

// resource returns the client for m, in namespace ns when namespaced.
func (c *Cluster) resource(m *meta.RESTMapping, ns string) dynamic.ResourceInterface {
	if m.Scope.Name() == meta.RESTScopeNameNamespace {
		return c.Dynamic.Resource(m.Resource).Namespace(ns)
	}
	return c.Dynamic.Resource(m.Resource)
}
