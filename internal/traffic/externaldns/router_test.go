//go:build testbed

package externaldns_test

import (
	"context"
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"

	"github.com/bluegreen/bluegreen/internal/traffic"
	"github.com/bluegreen/bluegreen/internal/traffic/externaldns"
	"github.com/bluegreen/bluegreen/test/testbed"
)

const (
	record = "app.example.com"
	ns     = "shop"
)

// clusters starts cluster A (blue) and cluster B (green), each with the
// namespace the objects live in.
func clusters(t *testing.T) map[string]kubernetes.Interface {
	t.Helper()
	out := map[string]kubernetes.Interface{}
	for _, color := range []string{"blue", "green"} {
		c := testbed.StartT(t, testbed.Options{Name: "edns-" + color, Nodes: -1})
		_, err := c.Client.CoreV1().Namespaces().Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{})
		if err != nil {
			t.Fatalf("create namespace in the %s cluster: %v", color, err)
		}
		out[color] = c.Client
	}
	return out
}

// kind abstracts the object kind so that one scenario covers both.
type kind struct {
	name   externaldns.Kind
	create func(ctx context.Context, c kubernetes.Interface, name string, annotations map[string]string) error
	meta   func(ctx context.Context, c kubernetes.Interface, name string) (metav1.ObjectMeta, error)
	patch  func(ctx context.Context, c kubernetes.Interface, name string, body []byte) error
}

var kinds = []kind{
	{
		name: externaldns.KindService,
		create: func(ctx context.Context, c kubernetes.Interface, name string, a map[string]string) error {
			_, err := c.CoreV1().Services(ns).Create(ctx, &corev1.Service{
				ObjectMeta: metav1.ObjectMeta{Name: name, Annotations: a},
				Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer, Selector: map[string]string{"app": name},
					Ports: []corev1.ServicePort{{Port: 443}}},
			}, metav1.CreateOptions{})
			return err
		},
		meta: func(ctx context.Context, c kubernetes.Interface, name string) (metav1.ObjectMeta, error) {
			s, err := c.CoreV1().Services(ns).Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				return metav1.ObjectMeta{}, err
			}
			return s.ObjectMeta, nil
		},
		patch: func(ctx context.Context, c kubernetes.Interface, name string, body []byte) error {
			_, err := c.CoreV1().Services(ns).Patch(ctx, name, types.MergePatchType, body, metav1.PatchOptions{})
			return err
		},
	},
	{
		name: externaldns.KindIngress,
		create: func(ctx context.Context, c kubernetes.Interface, name string, a map[string]string) error {
			pt := networkingv1.PathTypePrefix
			_, err := c.NetworkingV1().Ingresses(ns).Create(ctx, &networkingv1.Ingress{
				ObjectMeta: metav1.ObjectMeta{Name: name, Annotations: a},
				Spec: networkingv1.IngressSpec{Rules: []networkingv1.IngressRule{{Host: record, IngressRuleValue: networkingv1.IngressRuleValue{
					HTTP: &networkingv1.HTTPIngressRuleValue{Paths: []networkingv1.HTTPIngressPath{{Path: "/", PathType: &pt,
						Backend: networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: name, Port: networkingv1.ServiceBackendPort{Number: 443}}}}}},
				}}}},
			}, metav1.CreateOptions{})
			return err
		},
		meta: func(ctx context.Context, c kubernetes.Interface, name string) (metav1.ObjectMeta, error) {
			i, err := c.NetworkingV1().Ingresses(ns).Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				return metav1.ObjectMeta{}, err
			}
			return i.ObjectMeta, nil
		},
		patch: func(ctx context.Context, c kubernetes.Interface, name string, body []byte) error {
			_, err := c.NetworkingV1().Ingresses(ns).Patch(ctx, name, types.MergePatchType, body, metav1.PatchOptions{})
			return err
		},
	},
}

// TestRouterOnTwoClusters starts cluster A (blue) and cluster B (green) once
// for all its cases.
func TestRouterOnTwoClusters(t *testing.T) {
	cs := clusters(t)
	for _, k := range kinds {
		t.Run(string(k.name), func(t *testing.T) { testShiftAcrossTwoClusters(t, cs, k) })
	}
	t.Run("nothing written when an object is wrong", func(t *testing.T) { testShiftWritesNothingWhenAnObjectIsWrong(t, cs) })
}

// testShiftAcrossTwoClusters runs the canary steps on objects of kind k
// deployed under the same name in both clusters, and checks the annotations
// each cluster ends up with.
func testShiftAcrossTwoClusters(t *testing.T, cs map[string]kubernetes.Interface, k kind) {
	r, err := traffic.New(externaldns.Name, traffic.Deps{Clusters: map[string]kubernetes.Interface{"blue": cs["blue"], "green": cs["green"]}})
	if err != nil {
		t.Fatalf("traffic.New: %v", err)
	}
	ctx := context.Background()
	name := "app-" + string(k.name)
	// Blue has no hostname annotation yet; green lists two hosts.
	if err := k.create(ctx, cs["blue"], name, nil); err != nil {
		t.Fatalf("create in the blue cluster: %v", err)
	}
	if err := k.create(ctx, cs["green"], name, map[string]string{externaldns.HostnameAnnotation: "www.example.com, app.example.com"}); err != nil {
		t.Fatalf("create in the green cluster: %v", err)
	}
	obj := string(k.name) + "/" + ns + "/" + name
	tgt := traffic.Target{Name: record, Options: map[string]string{
		"blue.object": obj, "blue.set-identifier": "cluster-a",
		"green.object": obj, "green.set-identifier": "cluster-b",
	}}
	annotations := func(color string) map[string]string {
		t.Helper()
		m, err := k.meta(ctx, cs[color], name)
		if err != nil {
			t.Fatalf("get %s in the %s cluster: %v", obj, color, err)
		}
		return m.Annotations
	}

	_, err = r.Observe(ctx, tgt)
	wantErr(t, err, obj+" in the blue cluster has no annotation "+externaldns.HostnameAnnotation)

	for _, step := range []traffic.Split{{"blue": 100, "green": 0}, {"blue": 90, "green": 10}, {"blue": 50, "green": 50}} {
		if err := r.Shift(ctx, tgt, step); err != nil {
			t.Fatalf("Shift %s: %v", step, err)
		}
		if got, err := r.Observe(ctx, tgt); err != nil || !reflect.DeepEqual(got, step) {
			t.Fatalf("Observe after Shift %s = %v, %v", step, got, err)
		}
	}
	wantAnnotations := map[string]map[string]string{
		"blue": {externaldns.HostnameAnnotation: record, externaldns.SetIdentifierAnnotation: "cluster-a", externaldns.WeightAnnotation: "50"},
		"green": {externaldns.HostnameAnnotation: "www.example.com, app.example.com",
			externaldns.SetIdentifierAnnotation: "cluster-b", externaldns.WeightAnnotation: "50"},
	}
	for color, want := range wantAnnotations {
		if got := annotations(color); !reflect.DeepEqual(got, want) {
			t.Fatalf("%s cluster's annotations = %v, want %v", color, got, want)
		}
	}

	// A repeated shift writes nothing.
	before, _ := k.meta(ctx, cs["green"], name)
	if err := r.Shift(ctx, tgt, traffic.Split{"blue": 50, "green": 50}); err != nil {
		t.Fatalf("repeated Shift: %v", err)
	}
	if after, _ := k.meta(ctx, cs["green"], name); after.ResourceVersion != before.ResourceVersion {
		t.Fatalf("repeated Shift rewrote the green object: resourceVersion %s -> %s", before.ResourceVersion, after.ResourceVersion)
	}

	// Someone edits green's weight by hand: 50 against 150 is 25/75.
	if err := k.patch(ctx, cs["green"], name, []byte(`{"metadata":{"annotations":{"`+externaldns.WeightAnnotation+`":"150"}}}`)); err != nil {
		t.Fatalf("out-of-band edit: %v", err)
	}
	if got, err := r.Observe(ctx, tgt); err != nil || !reflect.DeepEqual(got, traffic.Split{"blue": 25, "green": 75}) {
		t.Fatalf("Observe after out-of-band edit = %v, %v; want blue=25,green=75", got, err)
	}
	if err := k.patch(ctx, cs["green"], name, []byte(`{"metadata":{"annotations":{"`+externaldns.WeightAnnotation+`":"heavy"}}}`)); err != nil {
		t.Fatalf("out-of-band edit: %v", err)
	}
	_, err = r.Observe(ctx, tgt)
	wantErr(t, err, obj+" in the green cluster has annotation "+externaldns.WeightAnnotation+`="heavy"`)

	// Rollback repairs the weight.
	if err := r.Shift(ctx, tgt, traffic.Split{"blue": 100, "green": 0}); err != nil {
		t.Fatalf("rollback: %v", err)
	}
	if got, err := r.Observe(ctx, tgt); err != nil || !reflect.DeepEqual(got, traffic.Split{"blue": 100, "green": 0}) {
		t.Fatalf("Observe after rollback = %v, %v", got, err)
	}
}

// testShiftWritesNothingWhenAnObjectIsWrong checks that Shift reads both
// objects before writing either.
func testShiftWritesNothingWhenAnObjectIsWrong(t *testing.T, cs map[string]kubernetes.Interface) {
	ctx := context.Background()
	r := externaldns.New(cs)
	svc := kinds[0]
	if err := svc.create(ctx, cs["blue"], "app", nil); err != nil {
		t.Fatalf("create: %v", err)
	}
	if err := svc.create(ctx, cs["green"], "other", map[string]string{externaldns.HostnameAnnotation: "other.example.com"}); err != nil {
		t.Fatalf("create: %v", err)
	}
	for _, tc := range []struct {
		name  string
		green string
		want  []string
	}{
		{"missing object", "service/shop/nothere", []string{"get service/shop/nothere in the green cluster", "not found"}},
		{"hostname lists other records", "service/shop/other", []string{`service/shop/other in the green cluster has annotation ` + externaldns.HostnameAnnotation + `="other.example.com"`, "does not list app.example.com"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tgt := traffic.Target{Name: record, Options: map[string]string{
				"blue.object": "service/shop/app", "blue.set-identifier": "cluster-a",
				"green.object": tc.green, "green.set-identifier": "cluster-b",
			}}
			wantErr(t, r.Shift(ctx, tgt, traffic.Split{"blue": 90, "green": 10}), tc.want...)
			m, err := svc.meta(ctx, cs["blue"], "app")
			if err != nil {
				t.Fatalf("get blue: %v", err)
			}
			if len(m.Annotations) != 0 {
				t.Fatalf("blue was patched although green was wrong: %v", m.Annotations)
			}
		})
	}

	// A color without a cluster client is named.
	_, err := externaldns.New(map[string]kubernetes.Interface{"blue": cs["blue"]}).Observe(ctx, traffic.Target{Name: record, Options: options(nil)})
	wantErr(t, err, "no Kubernetes client for the cluster of color green", `traffic.Deps.Clusters["green"]`)
}
