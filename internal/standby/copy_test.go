//go:build testbed

package standby

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/netip"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"github.com/bluegreen/bluegreen/internal/clock"
	"github.com/bluegreen/bluegreen/test/testbed"
)

const secretValue = "correct-horse-battery-staple"

// standbyPair is a source cluster A and a target cluster B with different
// service ranges, so that a copied ClusterIP cannot pass for B's own.
type standbyPair struct {
	a, b     *testbed.Cluster
	src, dst *Cluster
}

func startPair(t *testing.T) standbyPair {
	t.Helper()
	var p standbyPair
	p.a = testbed.StartT(t, testbed.Options{Name: "standby-a"})
	p.b = testbed.StartT(t, testbed.Options{Name: "standby-b", ServiceCIDR: "10.97.0.0/24"})
	var err error
	if p.src, err = NewCluster(p.a.Config); err != nil {
		t.Fatal(err)
	}
	if p.dst, err = NewCluster(p.b.Config); err != nil {
		t.Fatal(err)
	}
	return p
}

// seedShop creates in A the namespace shop with a web app: Deployment (2
// replicas), a ClusterIP and a NodePort Service, ConfigMap, Secret,
// ServiceAccount and HPA; and waits until the Deployment is Ready, so that
// its ReplicaSet exists.
func seedShop(ctx context.Context, t *testing.T, p standbyPair) {
	t.Helper()
	kube := p.a.Client
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	labels := map[string]string{"app": "web"}
	must(kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "shop", Labels: map[string]string{"team": "shop"}}}, metav1.CreateOptions{}))
	must(kube.CoreV1().ConfigMaps("shop").Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "web-config", Labels: labels}, Data: map[string]string{"MODE": "standby"}}, metav1.CreateOptions{}))
	must(kube.CoreV1().Secrets("shop").Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "web-db", Labels: labels}, Data: map[string][]byte{"password": []byte(secretValue)}}, metav1.CreateOptions{}))
	must(kube.CoreV1().ServiceAccounts("shop").Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "web", Labels: labels}}, metav1.CreateOptions{}))
	port := []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromInt32(8080)}}
	must(kube.CoreV1().Services("shop").Create(ctx, &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "web", Labels: labels},
		Spec: corev1.ServiceSpec{Selector: labels, Ports: port}}, metav1.CreateOptions{}))
	must(kube.CoreV1().Services("shop").Create(ctx, &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "web-nodeport", Labels: labels},
		Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeNodePort, Selector: labels, Ports: port}}, metav1.CreateOptions{}))
	must(kube.AppsV1().Deployments("shop").Create(ctx, &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Labels: labels,
			Annotations: map[string]string{"kubectl.kubernetes.io/last-applied-configuration": `{"apiVersion":"apps/v1","kind":"Deployment"}`}},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](2),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{ServiceAccountName: "web", Containers: []corev1.Container{{
					Name: "web", Image: "example.com/web:1",
					EnvFrom: []corev1.EnvFromSource{{ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "web-config"}}}},
				}}},
			},
		},
	}, metav1.CreateOptions{}))
	must(kube.AutoscalingV2().HorizontalPodAutoscalers("shop").Create(ctx, &autoscalingv2.HorizontalPodAutoscaler{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Labels: labels},
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "web"},
			MinReplicas:    ptr.To[int32](2), MaxReplicas: 4,
			Metrics: []autoscalingv2.MetricSpec{{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricSource{
				Name: corev1.ResourceCPU, Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: ptr.To[int32](80)},
			}}},
		},
	}, metav1.CreateOptions{}))
	waitCtx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := WaitReady(waitCtx, clock.Real{}, p.src, []ObjectRef{{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "shop", Name: "web"}}); err != nil {
		t.Fatalf("source: %v", err)
	}
}

// shopRefs is what a copy of A's shop applies, in order.
var shopRefs = []string{
	"Namespace shop", "ServiceAccount shop/web", "ConfigMap shop/web-config", "Secret shop/web-db",
	"Service shop/web", "Service shop/web-nodeport", "Deployment shop/web", "HorizontalPodAutoscaler shop/web",
}

// shopSelection selects A's shop with the default kinds.
var shopSelection = Selection{Namespaces: []string{"shop"}}

func TestCopy(t *testing.T) {
	p := startPair(t)
	ctx := t.Context()
	seedShop(ctx, t, p)
	steps := []struct {
		name string
		run  func(context.Context, *testing.T, standbyPair)
	}{
		{"plan lists what a copy applies, without owned or cluster-made objects", checkPlan},
		{"copy applies sanitized objects that roll out in B", checkFirstCopy},
		{"copying again changes nothing in B", checkRepeatedCopy},
		{"KeepNodePorts pins the source's node port", checkKeepNodePorts},
		{"WaitReady names the Deployment that is not ready", checkWaitReadyTimeout},
	}
	for _, step := range steps {
		if !t.Run(step.name, func(t *testing.T) { step.run(ctx, t, p) }) {
			return // later steps build on this one
		}
	}
}

func checkPlan(ctx context.Context, t *testing.T, p standbyPair) {
	plan, err := Plan(ctx, p.src, shopSelection)
	if err != nil {
		t.Fatal(err)
	}
	if got := refStrings(plan); !reflect.DeepEqual(got, shopRefs) {
		t.Fatalf("plan:\n got  %q\n want %q", got, shopRefs)
	}
	plan, err = Plan(ctx, p.src, Selection{Namespaces: []string{"shop"}, Kinds: []string{"ReplicaSet", "deployments.apps"}})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := refStrings(plan), []string{"Namespace shop", "Deployment shop/web"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("plan with ReplicaSets: got %q, want %q (owned ReplicaSets are never copied)", got, want)
	}
	if _, err := Plan(ctx, p.src, Selection{Namespaces: []string{"shop"}, Kinds: []string{"Widget"}}); err == nil || !strings.Contains(err.Error(), `kind "Widget"`) {
		t.Fatalf("unknown kind: err = %v", err)
	}
	if _, err := Plan(ctx, p.src, Selection{Namespaces: []string{"absent"}}); err == nil || !strings.Contains(err.Error(), "namespace absent") {
		t.Fatalf("unknown namespace: err = %v", err)
	}
}

func checkFirstCopy(ctx context.Context, t *testing.T, p standbyPair) {
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	res, err := Copy(ctx, p.src, p.dst, shopSelection, Options{Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	if got := refStrings(res.Applied); !reflect.DeepEqual(got, shopRefs) {
		t.Fatalf("applied:\n got  %q\n want %q", got, shopRefs)
	}
	var skipped []string
	for _, s := range res.Skipped {
		skipped = append(skipped, s.Ref.String())
	}
	for _, want := range []string{"ServiceAccount shop/default", "ConfigMap shop/kube-root-ca.crt"} {
		if !slices.Contains(skipped, want) {
			t.Errorf("skipped %q, want %s among them", skipped, want)
		}
	}
	checkCopied(ctx, t, p)
	if strings.Contains(logs.String(), secretValue) || strings.Contains(logs.String(), "Y29ycmVjdC1ob3JzZS") {
		t.Errorf("a Secret value reached the log:\n%s", logs.String())
	}
	waitCtx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := WaitReady(waitCtx, clock.Real{}, p.dst, res.Applied); err != nil {
		t.Fatal(err)
	}
}

func checkRepeatedCopy(ctx context.Context, t *testing.T, p standbyPair) {
	refs, err := Plan(ctx, p.src, shopSelection)
	if err != nil {
		t.Fatal(err)
	}
	before := versions(ctx, t, p.dst, refs)
	if _, err := Copy(ctx, p.src, p.dst, shopSelection, Options{}); err != nil {
		t.Fatal(err)
	}
	if after := versions(ctx, t, p.dst, refs); !reflect.DeepEqual(before, after) {
		t.Fatalf("a repeated copy changed B:\n before %v\n after  %v", before, after)
	}
	// A change in A does reach B on the next copy.
	cm, err := p.a.Client.CoreV1().ConfigMaps("shop").Get(ctx, "web-config", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cm.Data["MODE"] = "active"
	if _, err := p.a.Client.CoreV1().ConfigMaps("shop").Update(ctx, cm, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := Copy(ctx, p.src, p.dst, shopSelection, Options{}); err != nil {
		t.Fatal(err)
	}
	got, err := p.b.Client.CoreV1().ConfigMaps("shop").Get(ctx, "web-config", metav1.GetOptions{})
	if err != nil || got.Data["MODE"] != "active" {
		t.Fatalf("ConfigMap web-config in B after A changed: %v %v", err, got.Data)
	}
}

func checkKeepNodePorts(ctx context.Context, t *testing.T, p standbyPair) {
	one := Selection{Namespaces: []string{"shop"}, Kinds: []string{"Service"}, Names: []string{"service/web-nodeport"}}
	res, err := Copy(ctx, p.src, p.dst, one, Options{KeepNodePorts: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := refStrings(res.Applied); !reflect.DeepEqual(got, []string{"Namespace shop", "Service shop/web-nodeport"}) {
		t.Fatalf("applied %q", got)
	}
	if a, b := nodePort(ctx, t, p.a.Client), nodePort(ctx, t, p.b.Client); a != b {
		t.Fatalf("node port in B = %d, want A's %d", b, a)
	}
}

// checkCopied asserts that B holds sanitized copies of A's shop.
func checkCopied(ctx context.Context, t *testing.T, p standbyPair) {
	t.Helper()
	a, b := p.a.Client, p.b.Client
	ns, err := b.CoreV1().Namespaces().Get(ctx, "shop", metav1.GetOptions{})
	if err != nil || ns.Labels["team"] != "shop" {
		t.Fatalf("namespace shop in B: %v, labels %v", err, ns.GetLabels())
	}
	svcA, svcB := getService(ctx, t, a, "web"), getService(ctx, t, b, "web")
	cidr := netip.MustParsePrefix(p.b.ServiceCIDR)
	if ip, err := netip.ParseAddr(svcB.Spec.ClusterIP); err != nil || !cidr.Contains(ip) || svcB.UID == svcA.UID {
		t.Errorf("Service web in B: clusterIP %s (B's range %s), uid %s (A's %s)", svcB.Spec.ClusterIP, cidr, svcB.UID, svcA.UID)
	}
	np := getService(ctx, t, b, "web-nodeport")
	if np.Spec.Type != corev1.ServiceTypeNodePort || np.Spec.Ports[0].NodePort == 0 || owns(np.ManagedFields, "f:nodePort") {
		t.Errorf("Service web-nodeport in B: type %s, nodePort %d, node port owned by %s: %v",
			np.Spec.Type, np.Spec.Ports[0].NodePort, FieldManager, owns(np.ManagedFields, "f:nodePort"))
	}
	dA, err := a.AppsV1().Deployments("shop").Get(ctx, "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	dB, err := b.AppsV1().Deployments("shop").Get(ctx, "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if dB.UID == dA.UID || ptr.Deref(dB.Spec.Replicas, 0) != 2 || dB.Annotations["kubectl.kubernetes.io/last-applied-configuration"] != "" {
		t.Errorf("Deployment web in B: uid %s (A's %s), replicas %v, annotations %v", dB.UID, dA.UID, dB.Spec.Replicas, dB.Annotations)
	}
	sec, err := b.CoreV1().Secrets("shop").Get(ctx, "web-db", metav1.GetOptions{})
	if err != nil || string(sec.Data["password"]) != secretValue {
		t.Errorf("Secret web-db in B: %v, data intact: %v", err, err == nil && string(sec.Data["password"]) == secretValue)
	}
	hpa, err := b.AutoscalingV2().HorizontalPodAutoscalers("shop").Get(ctx, "web", metav1.GetOptions{})
	if err != nil || ptr.Deref(hpa.Spec.MinReplicas, 0) != 2 {
		t.Errorf("HPA web in B: %v %+v", err, hpa.Spec)
	}
	root, err := b.CoreV1().ConfigMaps("shop").Get(ctx, "kube-root-ca.crt", metav1.GetOptions{})
	if err == nil && managedBy(root.ManagedFields) {
		t.Error("kube-root-ca.crt in B was written by the copy")
	}
	sa, err := b.CoreV1().ServiceAccounts("shop").Get(ctx, "default", metav1.GetOptions{})
	if err == nil && managedBy(sa.ManagedFields) {
		t.Error("ServiceAccount default in B was written by the copy")
	}
	rss, err := b.AppsV1().ReplicaSets("shop").List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, rs := range rss.Items {
		if managedBy(rs.ManagedFields) {
			t.Errorf("ReplicaSet %s in B was written by the copy", rs.Name)
		}
	}
}

// checkWaitReadyTimeout asserts that WaitReady gives up when ctx ends and
// names the Deployment with its counts.
func checkWaitReadyTimeout(ctx context.Context, t *testing.T, p standbyPair) {
	labels := map[string]string{"app": "stuck"}
	_, err := p.b.Client.AppsV1().Deployments("shop").Create(ctx, &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "stuck"},
		Spec: appsv1.DeploymentSpec{
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "example.com/app:1-" + testbed.UnreadyMarker}}},
			},
		},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	waitCtx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	refs := []ObjectRef{
		{APIVersion: "v1", Kind: "ConfigMap", Namespace: "shop", Name: "web-config"},
		{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "shop", Name: "web"},
		{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "shop", Name: "stuck"},
	}
	err = WaitReady(waitCtx, clock.Real{}, p.dst, refs)
	if !errors.Is(err, ErrNotReady) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want ErrNotReady and the deadline", err)
	}
	t.Log(err)
	for _, want := range []string{"deployment shop/stuck in target: ", "ready 0/1, available 0/1: not ready: context deadline exceeded"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
}

// versions returns, for each object, what changes when it is written:
// its resourceVersion, except for an HPA, whose status B's controller
// rewrites on its own: its generation and the copy's managedFields entry.
func versions(ctx context.Context, t *testing.T, c *Cluster, refs []ObjectRef) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, r := range refs {
		m, err := c.mappingFor(r.GroupVersionKind())
		if err != nil {
			t.Fatal(err)
		}
		u, err := c.resource(m, r.Namespace).Get(ctx, r.Name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		v := u.GetResourceVersion()
		if r.Kind == "HorizontalPodAutoscaler" {
			v = "generation " + strconv.FormatInt(u.GetGeneration(), 10)
			for _, mf := range u.GetManagedFields() {
				if mf.Manager == FieldManager {
					v += " " + mf.Time.String() + " " + string(mf.FieldsV1.GetRawBytes())
				}
			}
		}
		out[r.String()] = v
	}
	return out
}

func getService(ctx context.Context, t *testing.T, kube kubernetes.Interface, name string) *corev1.Service {
	t.Helper()
	s, err := kube.CoreV1().Services("shop").Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func nodePort(ctx context.Context, t *testing.T, kube kubernetes.Interface) int32 {
	t.Helper()
	return getService(ctx, t, kube, "web-nodeport").Spec.Ports[0].NodePort
}

// managedBy reports whether the copy's field manager has an entry.
func managedBy(mfs []metav1.ManagedFieldsEntry) bool {
	return slices.ContainsFunc(mfs, func(mf metav1.ManagedFieldsEntry) bool { return mf.Manager == FieldManager })
}

// owns reports whether the copy's field manager owns a field named field.
func owns(mfs []metav1.ManagedFieldsEntry, field string) bool {
	for _, mf := range mfs {
		if mf.Manager == FieldManager && mf.FieldsV1 != nil && bytes.Contains(mf.FieldsV1.GetRawBytes(), []byte(`"`+field+`"`)) {
			return true
		}
	}
	return false
}

func refStrings(refs []ObjectRef) []string {
	out := make([]string, len(refs))
	for i, r := range refs {
		out[i] = r.String()
	}
	return out
}
