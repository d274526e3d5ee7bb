//go:build testbed

package kube_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/bluegreen/bluegreen/internal/clock"
	"github.com/bluegreen/bluegreen/internal/kube"
	"github.com/bluegreen/bluegreen/test/testbed"
)

// WaitWatched wakes on the watch, not on a timer: with an interval of an
// hour the wait still ends right after the change, having looked only a
// few times. A watch that cannot open makes it poll every interval, and a
// condition that never holds times out.
func TestWaitWatched(t *testing.T) {
	ctx := context.Background()
	// No idle check: a wait that ends must have been woken by its watch.
	defer kube.SetIdleCheck(time.Hour)()
	c := testbed.StartT(t, testbed.Options{Name: "kube-wait"})
	cms := c.Client.CoreV1().ConfigMaps("default")
	if _, err := cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "flag"}, Data: map[string]string{"v": "old"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// Other objects change too: a named watch must not wake on them.
	if _, err := cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "noise"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	isNew := func(looks *atomic.Int32) func(context.Context) (bool, error) {
		return func(ctx context.Context) (bool, error) {
			looks.Add(1)
			cm, err := cms.Get(ctx, "flag", metav1.GetOptions{})
			if apierrors.IsNotFound(err) {
				return false, nil
			}
			return err == nil && cm.Data["v"] == "new", err
		}
	}
	watchCM := kube.Named(func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) { return cms.Watch(ctx, o) }, "flag")

	t.Run("a change wakes the wait", func(t *testing.T) {
		var looks atomic.Int32
		go func() {
			for i := range 5 {
				time.Sleep(50 * time.Millisecond)
				patch := []byte(`{"data":{"n":"` + string(rune('a'+i)) + `"}}`)
				_, _ = cms.Patch(ctx, "noise", types.MergePatchType, patch, metav1.PatchOptions{})
			}
			_, _ = cms.Patch(ctx, "flag", types.MergePatchType, []byte(`{"data":{"v":"new"}}`), metav1.PatchOptions{})
		}()
		if err := kube.WaitWatched(ctx, clock.Real{}, time.Hour, time.Hour, []kube.Watcher{watchCM}, isNew(&looks)); err != nil {
			t.Fatal(err)
		}
		// The first look, one for the watch's initial event (may coalesce
		// with the first), one for the change; the other object's five
		// changes must not wake it.
		if n := looks.Load(); n > 4 {
			t.Fatalf("looked %d times for one change: the wait polls instead of watching", n)
		}
	})

	t.Run("a watch that cannot open falls back to polling", func(t *testing.T) {
		if _, err := cms.Patch(ctx, "flag", types.MergePatchType, []byte(`{"data":{"v":"old"}}`), metav1.PatchOptions{}); err != nil {
			t.Fatal(err)
		}
		var looks, opens atomic.Int32
		broken := func(context.Context, metav1.ListOptions) (watch.Interface, error) {
			opens.Add(1)
			return nil, errors.New("watch is forbidden")
		}
		go func() {
			time.Sleep(300 * time.Millisecond)
			_, _ = cms.Patch(ctx, "flag", types.MergePatchType, []byte(`{"data":{"v":"new"}}`), metav1.PatchOptions{})
		}()
		if err := kube.WaitWatched(ctx, clock.Real{}, 10*time.Millisecond, time.Hour, []kube.Watcher{broken}, isNew(&looks)); err != nil {
			t.Fatal(err)
		}
		if looks.Load() < 5 || opens.Load() < 5 {
			t.Fatalf("looked %d times and tried %d watches in 300 ms at a 10 ms interval: no polling fallback", looks.Load(), opens.Load())
		}
	})

	t.Run("a condition that never holds times out", func(t *testing.T) {
		var looks atomic.Int32
		never := func(ctx context.Context) (bool, error) { looks.Add(1); return false, nil }
		err := kube.WaitWatched(ctx, clock.Real{}, 10*time.Millisecond, 100*time.Millisecond, []kube.Watcher{watchCM}, never)
		if !errors.Is(err, clock.ErrTimeout) {
			t.Fatalf("err = %v, want a timeout", err)
		}
	})

	t.Run("a deleted object wakes the wait", func(t *testing.T) {
		var looks atomic.Int32
		gone := func(ctx context.Context) (bool, error) {
			looks.Add(1)
			_, err := cms.Get(ctx, "flag", metav1.GetOptions{})
			if apierrors.IsNotFound(err) {
				return true, nil
			}
			return false, err
		}
		go func() {
			time.Sleep(100 * time.Millisecond)
			_ = cms.Delete(ctx, "flag", metav1.DeleteOptions{})
		}()
		if err := kube.WaitWatched(ctx, clock.Real{}, time.Hour, time.Hour, []kube.Watcher{watchCM}, gone); err != nil {
			t.Fatal(err)
		}
		if n := looks.Load(); n > 4 {
			t.Fatalf("looked %d times for one delete", n)
		}
	})
}
