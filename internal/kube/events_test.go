//go:build testbed

package kube_test

import (
	"context"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/bluegreen/bluegreen/internal/kube"
	"github.com/bluegreen/bluegreen/test/servicebed"
	"github.com/bluegreen/bluegreen/test/testbed"
)

// An Event names its object with the object's UID, so that kubectl
// describe finds it; the same Event twice is one Event counted twice; an
// object that is gone still gets its Event, by name.
func TestRecorderReferencesTheObjectAndCountsRepeats(t *testing.T) {
	ctx := t.Context()
	c := testbed.StartT(t, testbed.Options{Name: "kube-events"})
	wctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	if err := servicebed.InstallPlain(wctx, c.Client, "default", "shop", "registry.example.com/shop:1.0.0", 1); err != nil {
		t.Fatal(err)
	}
	dep, err := c.Client.AppsV1().Deployments("default").Get(ctx, "shop", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// The object is read once for its UID, however many Events go on it.
	var gets atomic.Int32
	cfg := rest.CopyConfig(c.Config)
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper {
		return roundTripFunc(func(r *http.Request) (*http.Response, error) {
			if r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/deployments/shop") {
				gets.Add(1)
			}
			return rt.RoundTrip(r)
		})
	})
	counted, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	rec := kube.NewRecorder(counted, nil)
	for range 2 {
		if err := rec.Event(ctx, "default", "deployment/shop", "BlueGreenStep", "run r1 step switch: Switch", "Normal"); err != nil {
			t.Fatal(err)
		}
	}
	evs, err := c.Client.CoreV1().Events("default").List(ctx, metav1.ListOptions{FieldSelector: "involvedObject.uid=" + string(dep.UID)})
	if err != nil {
		t.Fatal(err)
	}
	var ours []corev1.Event // the deployment controller records its own
	for _, ev := range evs.Items {
		if ev.Source.Component == "bluegreen" {
			ours = append(ours, ev)
		}
	}
	if len(ours) != 1 || ours[0].Count != 2 || ours[0].InvolvedObject.Kind != "Deployment" || ours[0].Reason != "BlueGreenStep" {
		t.Fatalf("bluegreen's events on the Deployment's UID: %+v; want one, counted twice", ours)
	}
	if n := gets.Load(); n != 1 {
		t.Fatalf("two Events read the Deployment %d times, want once", n)
	}

	if err := rec.Event(ctx, "default", "horizontalpodautoscaler/gone", "BlueGreenStep", "run r1 undid step mirror-hpa", "Normal"); err != nil {
		t.Fatalf("event on an object that is gone: %v", err)
	}
	gone, err := c.Client.CoreV1().Events("default").List(ctx, metav1.ListOptions{FieldSelector: "involvedObject.name=gone"})
	if err != nil || len(gone.Items) != 1 || gone.Items[0].InvolvedObject.UID != "" || gone.Items[0].Type != corev1.EventTypeNormal {
		t.Fatalf("event on a deleted object: %+v, %v", gone, err)
	}

	// A recorder with a lookup (a controller's cache) reads nothing when
	// the lookup has the object, and reads what it lacks.
	before := gets.Load()
	asked := map[string]int{}
	cached := kube.NewRecorder(counted, nil).WithLookup(func(_ context.Context, kind, ns, name string) (*corev1.ObjectReference, bool) {
		asked[kind+"/"+name]++
		if kind != "Deployment" || name != "shop" {
			return nil, false
		}
		return &corev1.ObjectReference{Kind: kind, APIVersion: "apps/v1", Namespace: ns, Name: name, UID: dep.UID}, true
	})
	if err := cached.Event(ctx, "default", "deployment/shop", "BlueGreenKept", "run r2 kept step set-image", "Normal"); err != nil {
		t.Fatal(err)
	}
	if n := gets.Load() - before; n != 0 || asked["Deployment/shop"] != 1 {
		t.Fatalf("with the Deployment in the lookup: %d reads, %d lookups; want none and one", n, asked["Deployment/shop"])
	}
	kept, err := c.Client.CoreV1().Events("default").List(ctx, metav1.ListOptions{FieldSelector: "involvedObject.uid=" + string(dep.UID) + ",reason=BlueGreenKept"})
	if err != nil || len(kept.Items) != 1 {
		t.Fatalf("the Event through the lookup on the Deployment's UID: %+v, %v", kept, err)
	}
}
