package standby

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"slices"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"

	"github.com/bluegreen/bluegreen/internal/clock"
	"github.com/bluegreen/bluegreen/internal/kube"
	"github.com/bluegreen/bluegreen/internal/redact"
)

// FieldManager is the server-side apply field manager of every copy.
const FieldManager = "bluegreen"

// listPageSize bounds each list call.
const listPageSize = 500

// Options tune Copy.
type Options struct {
	// KeepNodePorts keeps the source's Service node ports (see
	// SanitizeOptions.KeepNodePorts).
	KeepNodePorts bool
	// Logger receives progress, one event per object at debug level; nil
	// discards it. Secret data never reaches it.
	Logger *slog.Logger
	// Clock times the copy; nil means the wall clock.
	Clock clock.Clock
	// Mutate, when set, adjusts each sanitized object before it is applied
	// (e.g. to give B's copy its own DNS set identifier).
	Mutate func(*unstructured.Unstructured) error
}

// Result is what a Copy applied.
type Result struct {
	// Applied lists the objects applied to the target, namespaces first,
	// in the order applied.
	Applied []ObjectRef `json:"applied"`
	// Skipped lists the selected objects that were left out, and why.
	Skipped []Skipped `json:"skipped,omitempty"`
}

// Skipped is an object a copy leaves out on purpose.
type Skipped struct {
	Ref    ObjectRef `json:"ref"`
	Reason string    `json:"reason"`
}

// item is an object to copy.
type item struct {
	ref ObjectRef
	obj *unstructured.Unstructured
}

// Plan returns what Copy would apply for sel, in order, without writing
// anything: the namespaces, then the selected objects that are not
// skipped. An invalid selection or a kind the source does not serve is an
// error.
func Plan(ctx context.Context, src *Cluster, sel Selection) ([]ObjectRef, error) {
	items, _, err := collect(ctx, src, sel)
	if err != nil {
		return nil, err
	}
	refs := make([]ObjectRef, len(items))
	for i, it := range items {
		refs[i] = it.ref
	}
	return refs, nil
}

// Copy reads the selected objects from src, sanitizes them (see
// SanitizeWith) and server-side applies them to dst with field manager
// FieldManager, forcing ownership: the namespaces first, then the objects
// in Selection.Kinds order. Applying what did not change in src changes
// nothing in dst, so Copy can be repeated to refresh the standby. On error
// the Result lists what was applied before it.
func Copy(ctx context.Context, src, dst *Cluster, sel Selection, opts Options) (Result, error) {
	log, clk := opts.Logger, opts.Clock
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if clk == nil {
		clk = clock.Real{}
	}
	items, skipped, err := collect(ctx, src, sel)
	res := Result{Skipped: skipped}
	if err != nil {
		return res, err
	}
	start := clk.Now()
	log.Info("copying workloads", "objects", len(items), "skipped", len(skipped))
	tokens := tokenSecrets{src: src}
	for _, it := range items {
		so := SanitizeOptions{KeepNodePorts: opts.KeepNodePorts}
		if it.ref.GroupVersionKind().GroupKind() == (schema.GroupKind{Kind: "ServiceAccount"}) {
			if so.TokenSecrets, err = tokens.in(ctx, it.ref.Namespace); err != nil {
				return res, err
			}
		}
		if err := applyItem(ctx, dst, it, so, opts.Mutate); err != nil {
			return res, err
		}
		res.Applied = append(res.Applied, it.ref)
		log.Debug("copied object", "kind", it.ref.Kind, "namespace", it.ref.Namespace, "name", it.ref.Name)
	}
	log.Info("copied workloads", "objects", len(res.Applied), "elapsed", clk.Now().Sub(start))
	return res, nil
}

// collect lists what sel selects in src: the namespaces, cluster-scoped
// kinds, then each namespace's objects kind by kind.
func collect(ctx context.Context, src *Cluster, sel Selection) ([]item, []Skipped, error) {
	sel, err := sel.withDefaults()
	if err != nil {
		return nil, nil, err
	}
	var mappings []*meta.RESTMapping
	for _, k := range sel.Kinds {
		m, err := src.resolveKind(k)
		if err != nil {
			return nil, nil, fmt.Errorf("source: %w", err)
		}
		if !slices.ContainsFunc(mappings, func(o *meta.RESTMapping) bool { return o.Resource == m.Resource }) {
			mappings = append(mappings, m) // "Deployment" and "deployments" once
		}
	}
	var items []item
	for _, ns := range sel.Namespaces {
		obj, err := src.Dynamic.Resource(corev1.SchemeGroupVersion.WithResource("namespaces")).Get(ctx, ns, metav1.GetOptions{})
		if err != nil {
			return nil, nil, fmt.Errorf("read namespace %s from source: %w", ns, err)
		}
		items = append(items, item{ref: refOf(obj), obj: obj})
	}
	var skipped []Skipped
	add := func(obj *unstructured.Unstructured) {
		if !sel.matchName(obj.GetKind(), obj.GetName()) {
			return
		}
		if why := skipReason(obj); why != "" {
			skipped = append(skipped, Skipped{Ref: refOf(obj), Reason: why})
			return
		}
		items = append(items, item{ref: refOf(obj), obj: obj.DeepCopy()})
	}
	for _, scope := range append([]string{""}, sel.Namespaces...) {
		for _, m := range mappings {
			if namespaced := m.Scope.Name() == meta.RESTScopeNameNamespace; namespaced != (scope != "") {
				continue
			}
			if err := listAll(ctx, src.resource(m, scope), sel.LabelSelector, "", add); err != nil {
				return nil, nil, fmt.Errorf("list %s%s in source: %w", m.Resource.GroupResource(), inNamespace(scope), err)
			}
		}
	}
	return items, skipped, nil
}

// listAll pages through a list and calls visit for every object.
func listAll(ctx context.Context, ri dynamic.ResourceInterface, labelSelector, fieldSelector string, visit func(*unstructured.Unstructured)) error {
	return kube.ListAll(ctx, ri, metav1.ListOptions{LabelSelector: labelSelector, FieldSelector: fieldSelector, Limit: listPageSize}, visit)
}

// applyItem sanitizes it and applies it to dst.
func applyItem(ctx context.Context, dst *Cluster, it item, so SanitizeOptions, mutate func(*unstructured.Unstructured) error) error {
	clean, err := SanitizeWith(it.obj, so)
	if err != nil {
		return err
	}
	if mutate != nil {
		if err := mutate(clean); err != nil {
			return fmt.Errorf("prepare %s for target: %w", it.ref, err)
		}
	}
	m, err := dst.mappingFor(clean.GroupVersionKind())
	if err != nil {
		return fmt.Errorf("apply %s to target: %w", it.ref, err)
	}
	_, err = dst.resource(m, clean.GetNamespace()).Apply(ctx, clean.GetName(), clean,
		metav1.ApplyOptions{FieldManager: FieldManager, Force: true})
	if err != nil {
		return fmt.Errorf("apply %s to target: %w", it.ref, redactSecretData(it.obj, err))
	}
	return nil
}

// tokenSecrets finds, once per namespace, the names of the source's
// service-account token Secrets.
type tokenSecrets struct {
	src    *Cluster
	byName map[string]map[string]bool
}

// in returns the token Secret names of namespace ns.
func (t *tokenSecrets) in(ctx context.Context, ns string) (map[string]bool, error) {
	if names, ok := t.byName[ns]; ok {
		return names, nil
	}
	names := map[string]bool{}
	sel := fields.OneTermEqualSelector("type", string(corev1.SecretTypeServiceAccountToken)).String()
	err := listAll(ctx, t.src.Dynamic.Resource(corev1.SchemeGroupVersion.WithResource("secrets")).Namespace(ns), "", sel,
		func(obj *unstructured.Unstructured) { names[obj.GetName()] = true })
	if err != nil {
		return nil, fmt.Errorf("list token secrets in namespace %s in source: %w", ns, err)
	}
	if t.byName == nil {
		t.byName = map[string]map[string]bool{}
	}
	t.byName[ns] = names
	return names, nil
}

// refOf returns a reference to obj.
func refOf(obj *unstructured.Unstructured) ObjectRef {
	return ObjectRef{APIVersion: obj.GetAPIVersion(), Kind: obj.GetKind(), Namespace: obj.GetNamespace(), Name: obj.GetName()}
}

// inNamespace returns " in namespace <ns>", or "" for cluster scope.
func inNamespace(ns string) string {
	if ns == "" {
		return ""
	}
	return " in namespace " + ns
}

// redactSecretData hides obj's data values, encoded and decoded, from err
// when obj is a Secret. An API server does not echo Secret data in its
// errors today; this keeps it that way for whatever sits in between. An
// API status error stays one (apierrors.IsInvalid and the like still
// work), with its messages redacted; any other error becomes its redacted
// text.
func redactSecretData(obj *unstructured.Unstructured, err error) error {
	if obj.GetKind() != "Secret" || obj.GroupVersionKind().Group != "" {
		return err
	}
	var values []string
	for _, field := range []string{"data", "stringData"} {
		m, _, _ := unstructured.NestedStringMap(obj.Object, field)
		for _, v := range m {
			values = append(values, v)
			if dec, decErr := base64.StdEncoding.DecodeString(v); decErr == nil && field == "data" {
				values = append(values, string(dec))
			}
		}
	}
	secrets := redact.NewSecrets(values...)
	var api apierrors.APIStatus
	if !errors.As(err, &api) {
		return errors.New(secrets.String(err.Error()))
	}
	st := api.Status()
	st.Message = secrets.String(st.Message)
	if st.Details != nil {
		details := *st.Details
		details.Causes = slices.Clone(details.Causes)
		for i := range details.Causes {
			details.Causes[i].Message = secrets.String(details.Causes[i].Message)
		}
		st.Details = &details
	}
	return &apierrors.StatusError{ErrStatus: st}
}
