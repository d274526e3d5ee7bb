//go:build testbed

package gatewayapi_test

import (
	"bytes"
	"context"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
	"sigs.k8s.io/gateway-api/pkg/client/clientset/versioned"

	"github.com/bluegreen/bluegreen/test/gatewaybed"
)

// installCRDs installs the Gateway API standard CRDs shipped in the
// sigs.k8s.io/gateway-api module this repository requires.
func installCRDs(t *testing.T, dyn dynamic.Interface) {
	t.Helper()
	if err := gatewaybed.InstallGatewayAPICRDs(t.Context(), dyn); err != nil {
		t.Fatal(err)
	}
}

func createNamespaces(t *testing.T, kube kubernetes.Interface, names ...string) {
	t.Helper()
	for _, n := range names {
		_, err := kube.CoreV1().Namespaces().Create(t.Context(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: n}}, metav1.CreateOptions{})
		if err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatal(err)
		}
	}
}

// controller plays a Gateway controller: it reports on every route of a
// namespace, for the route's current generation, that each of its parents
// has Accepted set as the verdict says and ResolvedRefs True, writing the
// status subresource as a real controller does.
type controller struct {
	gw   versioned.Interface
	ns   string
	name gwv1.GatewayController

	mu        sync.Mutex
	accepting bool
	reason    string
	message   string

	stop context.CancelFunc
	done chan struct{}
}

// startController starts a controller that accepts every route; Stop (also
// registered with t.Cleanup) ends it.
func startController(t *testing.T, gw versioned.Interface, ns string) *controller {
	ctx, cancel := context.WithCancel(context.Background())
	c := &controller{gw: gw, ns: ns, name: "example.com/test-gateway-controller", accepting: true, stop: cancel, done: make(chan struct{})}
	go c.run(ctx, t)
	t.Cleanup(c.Stop)
	return c
}

// Reject makes the controller report Accepted False with reason and message.
func (c *controller) Reject(reason, message string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.accepting, c.reason, c.message = false, reason, message
}

// Accept makes the controller accept routes again.
func (c *controller) Accept() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.accepting = true
}

// Stop ends the controller and waits for it.
func (c *controller) Stop() {
	c.stop()
	<-c.done
}

func (c *controller) run(ctx context.Context, t *testing.T) {
	defer close(c.done)
	for ctx.Err() == nil {
		list, err := c.gw.GatewayV1().HTTPRoutes(c.ns).List(ctx, metav1.ListOptions{})
		if err == nil {
			for i := range list.Items {
				if err := c.report(ctx, &list.Items[i]); err != nil && ctx.Err() == nil && !apierrors.IsConflict(err) && !apierrors.IsNotFound(err) {
					t.Errorf("test controller: %v", err)
				}
			}
		}
		select {
		case <-ctx.Done():
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func (c *controller) report(ctx context.Context, r *gwv1.HTTPRoute) error {
	for _, p := range r.Status.Parents {
		if p.ControllerName == c.name && len(p.Conditions) > 0 && p.Conditions[0].ObservedGeneration == r.Generation {
			return nil
		}
	}
	c.mu.Lock()
	accepted := metav1.Condition{Type: string(gwv1.RouteConditionAccepted), Status: metav1.ConditionTrue, Reason: string(gwv1.RouteReasonAccepted), Message: "accepted"}
	if !c.accepting {
		accepted.Status, accepted.Reason, accepted.Message = metav1.ConditionFalse, c.reason, c.message
	}
	c.mu.Unlock()
	resolved := metav1.Condition{Type: string(gwv1.RouteConditionResolvedRefs), Status: metav1.ConditionTrue, Reason: string(gwv1.RouteReasonResolvedRefs), Message: "resolved"}
	now := metav1.Now()
	var parents []gwv1.RouteParentStatus
	for _, ref := range r.Spec.ParentRefs {
		a, b := accepted, resolved
		a.ObservedGeneration, b.ObservedGeneration = r.Generation, r.Generation
		a.LastTransitionTime, b.LastTransitionTime = now, now
		parents = append(parents, gwv1.RouteParentStatus{ParentRef: ref, ControllerName: c.name, Conditions: []metav1.Condition{a, b}})
	}
	r.Status.Parents = parents
	_, err := c.gw.GatewayV1().HTTPRoutes(r.Namespace).UpdateStatus(ctx, r, metav1.UpdateOptions{FieldManager: "test-gateway-controller"})
	return err
}

// logBuffer collects a logger's output, safe for concurrent writes.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// Take returns what was logged since the last Take.
func (b *logBuffer) Take() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.buf.String()
	b.buf.Reset()
	return s
}
