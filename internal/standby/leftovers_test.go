//go:build testbed

package standby

import (
	"context"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/rest"

	"github.com/bluegreen/bluegreen/test/testbed"
)

// warningCount counts the API server's warnings.
type warningCount struct{ n atomic.Int32 }

func (w *warningCount) HandleWarningHeader(code int, _, _ string) {
	if code == 299 {
		w.n.Add(1)
	}
}

// Others lists every kind a namespace may hold, v1 Endpoints among them,
// which the API server answers with a deprecation warning that client-go
// would log in the middle of a rollback's output. Others finds what is
// not ours and lets no such warning through.
func TestOthersFindsWhatIsNotOursWithoutWarnings(t *testing.T) {
	tb := testbed.StartT(t, testbed.Options{Name: "standby-others"})
	ctx := t.Context()
	const ns = "shop"
	core := tb.Client.CoreV1()
	if _, err := core.Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "web"}, Spec: corev1.ServiceSpec{
		Selector: map[string]string{"app": "web"}, Ports: []corev1.ServicePort{{Port: 80}},
	}}
	if _, err := core.Services(ns).Create(ctx, svc, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	extra := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "added-since"}}
	if _, err := core.ConfigMaps(ns).Create(ctx, extra, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	endpoints := schema.GroupVersionResource{Version: "v1", Resource: "endpoints"}
	var warnings warningCount
	cfg := rest.CopyConfig(tb.Config)
	cfg.WarningHandler = &warnings
	c, err := NewCluster(cfg)
	if err != nil {
		t.Fatal(err)
	}
	// The Service's Endpoints exist, and listing them draws a warning
	// through the cluster's own client.
	wctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := testbed.WaitFor(wctx, func(ctx context.Context) (bool, error) {
		_, err := c.Dynamic.Resource(endpoints).Namespace(ns).Get(ctx, "web", metav1.GetOptions{})
		return err == nil, nil
	}); err != nil {
		t.Fatalf("Endpoints of Service web: %v", err)
	}
	if warnings.n.Load() == 0 {
		t.Fatal("reading v1 Endpoints drew no warning: this test no longer shows anything")
	}
	warnings.n.Store(0)

	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ours := []ObjectRef{{APIVersion: "v1", Kind: "Service", Namespace: ns, Name: "web"}}
	others, err := Others(ctx, dc, c, ns, ours)
	if err != nil {
		t.Fatal(err)
	}
	want := ObjectRef{APIVersion: "v1", Kind: "ConfigMap", Namespace: ns, Name: "added-since"}
	if !slices.Contains(others, want) || len(others) != 1 {
		t.Errorf("others = %v, want only %v", others, want)
	}
	if n := warnings.n.Load(); n != 0 {
		t.Errorf("listing the namespace's kinds let %d server warnings through", n)
	}
}
