package testbed

import (
	"context"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// pollInterval is how often WaitFor checks its condition.
const pollInterval = 100 * time.Millisecond

// WaitFor calls cond at once and then every 100ms until it returns true
// (WaitFor returns nil), an error (WaitFor returns it) or ctx is done
// (WaitFor returns an error wrapping ctx's error).
func WaitFor(ctx context.Context, cond func(ctx context.Context) (bool, error)) error {
	ticker := time.NewTicker(pollInterval)
	defer ticker.Stop()
	for {
		ok, err := cond(ctx)
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("condition not met: %w", ctx.Err())
		case <-ticker.C:
		}
	}
}

// waitAPI waits until the API server reports ready and the controller
// manager has created the default namespace's service account, without
// which pods cannot be created there.
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
		return fmt.Errorf("API server not ready (last error: %v): %w", lastErr, err)
	}
	err = c.waitHealthy(ctx, func(ctx context.Context) (bool, error) {
		_, err := c.Client.CoreV1().ServiceAccounts(metav1.NamespaceDefault).Get(ctx, "default", metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return false, nil
		}
		return err == nil, err
	})
	if err != nil {
		return fmt.Errorf("default service account: %w", err)
	}
	return nil
}
