package externaldns

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"

	"github.com/bluegreen/bluegreen/internal/kube"
	"github.com/bluegreen/bluegreen/internal/traffic"
)

// Name is the router's registered name.
const Name = "external-dns"

func init() {
	traffic.Register(traffic.Plugin{
		Name: Name,
		New: func(d traffic.Deps) (traffic.Router, error) {
			if len(d.Clusters) == 0 {
				return nil, fmt.Errorf("no Kubernetes client per color: set traffic.Deps.Clusters")
			}
			return New(d.Clusters), nil
		},
		Records: records,
	})
}

// Router moves traffic by writing external-dns weight annotations on one
// object per color, each in its color's cluster.
type Router struct {
	// Clusters holds the client of each color's cluster.
	Clusters map[string]kubernetes.Interface
}

// New returns a Router acting on the given clusters, keyed by color.
func New(clusters map[string]kubernetes.Interface) *Router { return &Router{Clusters: clusters} }

// observed is one color's object as read from its cluster.
type observed struct {
	color       string
	obj         ColorObject
	client      kubernetes.Interface
	annotations map[string]string
}

func (o observed) String() string { return fmt.Sprintf("%s in the %s cluster", o.obj.Object, o.color) }

// Observe implements traffic.Router. It reads each color's weight annotation
// and converts the weights to percent; all weights 0 read as equal shares.
// It fails, naming the object and the annotation, when an annotation is
// missing or does not match the configuration.
func (r *Router) Observe(ctx context.Context, t traffic.Target) (traffic.Split, error) {
	cfg, err := ParseOptions(t)
	if err != nil {
		return nil, err
	}
	objs, err := r.read(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("observe %s: %w", cfg.Hostname, err)
	}
	weights := map[string]int64{}
	for _, o := range objs {
		if err := o.check(cfg.Hostname); err != nil {
			return nil, fmt.Errorf("observe %s: %w", cfg.Hostname, err)
		}
		w, err := o.weight()
		if err != nil {
			return nil, fmt.Errorf("observe %s: %w", cfg.Hostname, err)
		}
		weights[o.color] = w
	}
	return traffic.SplitFromWeights(weights), nil
}

// Shift implements traffic.Router. It reads every color's object first, so
// that a missing object or a hostname annotation naming other records fails
// before anything is written, then merge-patches the annotations, the color
// losing traffic first (see the package documentation for why). An object
// already carrying the wanted annotations is not patched, so a repeated
// Shift writes nothing. The hostname annotation is set to the target's name
// only when absent.
func (r *Router) Shift(ctx context.Context, t traffic.Target, s traffic.Split) error {
	cfg, err := ParseOptions(t)
	if err != nil {
		return err
	}
	if err := traffic.ValidateSplit(s, cfg.Colors()); err != nil {
		return fmt.Errorf("shift %s: %w", cfg.Hostname, err)
	}
	objs, err := r.read(ctx, cfg)
	if err != nil {
		return fmt.Errorf("shift %s to %s: %w", cfg.Hostname, s, err)
	}
	for _, o := range objs {
		if h, ok := o.annotations[HostnameAnnotation]; ok && !hasHostname(h, cfg.Hostname) {
			return fmt.Errorf("shift %s to %s: %s has annotation %s=%q, which does not list %s: the weight would apply to other records; add %s to it or name another object",
				cfg.Hostname, s, o, HostnameAnnotation, h, cfg.Hostname, cfg.Hostname)
		}
	}
	var done []string
	for _, o := range losersFirst(objs, s) {
		if err := o.patch(ctx, cfg.Hostname, int64(s[o.color])); err != nil {
			err = fmt.Errorf("shift %s to %s: %w", cfg.Hostname, s, err)
			if len(done) > 0 {
				err = fmt.Errorf("%w (already patched: %s; shift again to finish)", err, strings.Join(done, ", "))
			}
			return err
		}
		done = append(done, o.String())
	}
	return nil
}

// losersFirst orders objs by the change of their color's share, the color
// losing the most first; colors whose current weight cannot be read count
// as having none.
func losersFirst(objs []observed, s traffic.Split) []observed {
	weights := map[string]int64{}
	for _, o := range objs {
		if w, err := o.weight(); err == nil {
			weights[o.color] = w
		}
	}
	current := traffic.SplitFromWeights(weights)
	out := slices.Clone(objs)
	slices.SortStableFunc(out, func(a, b observed) int {
		return (s[a.color] - current[a.color]) - (s[b.color] - current[b.color])
	})
	return out
}

// read gets every color's object, in color order.
func (r *Router) read(ctx context.Context, cfg Config) ([]observed, error) {
	var out []observed
	for _, color := range cfg.Colors() {
		o := observed{color: color, obj: cfg.Objects[color], client: r.Clusters[color]}
		if o.client == nil {
			return nil, fmt.Errorf("no Kubernetes client for the cluster of color %s: set traffic.Deps.Clusters[%q]", color, color)
		}
		meta, err := o.get(ctx)
		if err != nil {
			return nil, kubeErr(fmt.Errorf("get %s: %w", o, err))
		}
		o.annotations = meta.Annotations
		out = append(out, o)
	}
	return out, nil
}

// check verifies the hostname and set identifier annotations.
func (o observed) check(name string) error {
	h, ok := o.annotations[HostnameAnnotation]
	switch {
	case !ok:
		return fmt.Errorf("%s has no annotation %s: shift to write it", o, HostnameAnnotation)
	case !hasHostname(h, name):
		return fmt.Errorf("%s has annotation %s=%q, which does not list %s", o, HostnameAnnotation, h, name)
	}
	id, ok := o.annotations[SetIdentifierAnnotation]
	switch {
	case !ok:
		return fmt.Errorf("%s has no annotation %s: shift to write it", o, SetIdentifierAnnotation)
	case id != o.obj.SetIdentifier:
		return fmt.Errorf("%s has annotation %s=%q, the migration expects %q: shift to write it", o, SetIdentifierAnnotation, id, o.obj.SetIdentifier)
	}
	return nil
}

// weight parses the weight annotation as external-dns does.
func (o observed) weight() (int64, error) {
	v, ok := o.annotations[WeightAnnotation]
	if !ok {
		return 0, fmt.Errorf("%s has no annotation %s: shift to write it", o, WeightAnnotation)
	}
	w, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil || w < 0 || w > traffic.MaxWeight {
		return 0, fmt.Errorf("%s has annotation %s=%q: want a whole number from 0 to %d", o, WeightAnnotation, v, traffic.MaxWeight)
	}
	return w, nil
}

func (o observed) get(ctx context.Context) (metav1.ObjectMeta, error) {
	ob := o.obj.Object
	if ob.Kind == KindIngress {
		ing, err := o.client.NetworkingV1().Ingresses(ob.Namespace).Get(ctx, ob.Name, metav1.GetOptions{})
		if err != nil {
			return metav1.ObjectMeta{}, err
		}
		return ing.ObjectMeta, nil
	}
	svc, err := o.client.CoreV1().Services(ob.Namespace).Get(ctx, ob.Name, metav1.GetOptions{})
	if err != nil {
		return metav1.ObjectMeta{}, err
	}
	return svc.ObjectMeta, nil
}

// patch merge-patches the annotations that differ from the wanted ones.
func (o observed) patch(ctx context.Context, name string, weight int64) error {
	want := map[string]string{
		SetIdentifierAnnotation: o.obj.SetIdentifier,
		WeightAnnotation:        strconv.FormatInt(weight, 10),
	}
	if _, ok := o.annotations[HostnameAnnotation]; !ok {
		want[HostnameAnnotation] = name
	}
	for k, v := range want {
		if cur, ok := o.annotations[k]; ok && cur == v {
			delete(want, k)
		}
	}
	if len(want) == 0 {
		return nil
	}
	body, err := json.Marshal(map[string]any{"metadata": map[string]any{"annotations": want}})
	if err != nil {
		return fmt.Errorf("patch %s: %w", o, err)
	}
	ob := o.obj.Object
	if ob.Kind == KindIngress {
		_, err = o.client.NetworkingV1().Ingresses(ob.Namespace).Patch(ctx, ob.Name, types.MergePatchType, body, metav1.PatchOptions{})
	} else {
		_, err = o.client.CoreV1().Services(ob.Namespace).Patch(ctx, ob.Name, types.MergePatchType, body, metav1.PatchOptions{})
	}
	if err != nil {
		return kubeErr(fmt.Errorf("patch %s weight to %d: %w", o, weight, err))
	}
	return nil
}

// kubeErr marks the API errors that clear on their own as transient, so
// that the engine retries the step.
func kubeErr(err error) error { return kube.Transient(err) }
