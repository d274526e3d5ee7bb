package kube

import (
	"errors"

	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/bluegreen/bluegreen/internal/engine"
)

// IsTransient reports whether an API error clears on its own: a conflict
// (someone wrote in between: read again and retry), a rate limit, the
// server timing out or busy, or a 5xx from an API server being restarted
// or a proxy in front of it. It sees through wrapping.
func IsTransient(err error) bool {
	if err == nil {
		return false
	}
	if apierrors.IsConflict(err) || apierrors.IsTooManyRequests(err) || apierrors.IsServerTimeout(err) ||
		apierrors.IsTimeout(err) || apierrors.IsServiceUnavailable(err) || apierrors.IsInternalError(err) {
		return true
	}
	var st apierrors.APIStatus
	if errors.As(err, &st) {
		switch st.Status().Code {
		case 500, 502, 503, 504:
			return true
		}
	}
	return false
}

// Transient returns err marked engine.Transient when IsTransient holds, so
// that the engine retries the step; otherwise err itself (nil stays nil).
// It is the one list of retryable API errors of the module.
func Transient(err error) error {
	if IsTransient(err) {
		return engine.Transient(err)
	}
	return err
}
