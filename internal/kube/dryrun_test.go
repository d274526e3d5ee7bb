//go:build testbed

package kube_test

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"

	"github.com/bluegreen/bluegreen/internal/kube"
	"github.com/bluegreen/bluegreen/test/servicebed"
	"github.com/bluegreen/bluegreen/test/testbed"
)

// Every write of the server-dry-run clients is answered as if kept, and
// none is kept: creates, updates, patches (also of a subresource), and
// deletes, through the typed and the dynamic client alike.
func TestServerDryRunClientsKeepNothing(t *testing.T) {
	ctx := t.Context()
	c := testbed.StartT(t, testbed.Options{Name: "kube-dryrun"})
	wctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	if err := servicebed.InstallPlain(wctx, c.Client, "default", "shop", "registry.example.com/shop:1.0.0", 1); err != nil {
		t.Fatal(err)
	}
	before, err := c.Client.AppsV1().Deployments("default").Get(ctx, "shop", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	dry, err := (&kube.Clients{Config: c.Config, Context: "kube-dryrun", Namespace: "default"}).ServerDryRun()
	if err != nil {
		t.Fatal(err)
	}

	edited := before.DeepCopy()
	edited.Spec.Template.Spec.Containers[0].Image = "registry.example.com/shop:2.0.0"
	got, err := dry.Kube.AppsV1().Deployments("default").Update(ctx, edited, metav1.UpdateOptions{})
	if err != nil {
		t.Fatalf("dry update: %v", err)
	}
	if got.Spec.Template.Spec.Containers[0].Image != "registry.example.com/shop:2.0.0" {
		t.Fatalf("dry update answered image %s, want the new one", got.Spec.Template.Spec.Containers[0].Image)
	}
	if _, err := dry.Kube.AppsV1().Deployments("default").Patch(ctx, "shop", types.MergePatchType, []byte(`{"spec":{"replicas":7}}`), metav1.PatchOptions{}, "scale"); err != nil {
		t.Fatalf("dry scale: %v", err)
	}
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "dry", Namespace: "default"}}
	if _, err := dry.Kube.CoreV1().ConfigMaps("default").Create(ctx, cm, metav1.CreateOptions{}); err != nil {
		t.Fatalf("dry create: %v", err)
	}
	svcs := schema.GroupVersionResource{Version: "v1", Resource: "services"}
	if err := dry.Records.Resource(svcs).Namespace("default").Delete(ctx, "shop", metav1.DeleteOptions{}); err != nil {
		t.Fatalf("dry delete: %v", err)
	}
	if err := dry.Kube.CoreV1().Services("default").Delete(ctx, "shop", metav1.DeleteOptions{}); err != nil {
		t.Fatalf("dry delete: %v", err)
	}

	after, err := c.Client.AppsV1().Deployments("default").Get(ctx, "shop", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if after.ResourceVersion != before.ResourceVersion || after.Spec.Template.Spec.Containers[0].Image != "registry.example.com/shop:1.0.0" || *after.Spec.Replicas != 1 {
		t.Fatalf("deployment changed by dry writes: rv %s→%s image %s replicas %d",
			before.ResourceVersion, after.ResourceVersion, after.Spec.Template.Spec.Containers[0].Image, *after.Spec.Replicas)
	}
	if _, err := c.Client.CoreV1().ConfigMaps("default").Get(ctx, "dry", metav1.GetOptions{}); err == nil {
		t.Fatal("dry create kept the ConfigMap")
	}
	if _, err := c.Client.CoreV1().Services("default").Get(ctx, "shop", metav1.GetOptions{}); err != nil {
		t.Fatalf("dry delete removed the Service: %v", err)
	}
}
