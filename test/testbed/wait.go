package testbed

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
)

// pollInterval is how often WaitFor checks its condition.
const pollInterval = 100 * time.Millisecond

// WaitFor calls cond at once and then every 100ms until it returns true
// (WaitFor returns nil), an error (WaitFor returns it) or ctx is done
// (WaitFor returns an error wrapping ctx's error).
func WaitFor(ctx context.Context, cond func(ctx context.Context) (bool, error)) error {
	err := wait.PollUntilContextCancel(ctx, pollInterval, true, cond)
	if err != nil && ctx.Err() != nil {
		return fmt.Errorf("condition not met: %w", ctx.Err())
	}
	return err
}

// waitAPI waits until the API server reports ready and makes sure the
// default namespace has its default service account, without which pods
// cannot be created there. It creates the account rather than waiting a few
// seconds for kube-controller-manager to do so.
func (c *Cluster) waitAPI(ctx context.Context) error {
	var lastErr error
	err := c.waitHealthy(ctx, func(ctx context.Context) (bool, error) {
		body, err := c.Client.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx)
		if err != nil {
			lastErr = err
			return false, nil
		}
		return string(body) == "ok", nil
	})
	if err != nil {
		return fmt.Errorf("API server not ready (last error: %w): %w", lastErr, err)
	}
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default"}}
	_, err = c.Client.CoreV1().ServiceAccounts(metav1.NamespaceDefault).Create(ctx, sa, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create default service account: %w", err)
	}
	return nil
}
