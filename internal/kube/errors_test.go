package kube

import (
	"errors"
	"fmt"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/bluegreen/bluegreen/internal/engine"
)

// The module's one list of API errors that clear on their own: the engine
// retries these and nothing else, wrapped or not.
func TestTransient(t *testing.T) {
	gr := schema.GroupResource{Resource: "services"}
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"conflict", apierrors.NewConflict(gr, "shop", errors.New("changed")), true},
		{"rate limited", apierrors.NewTooManyRequests("slow down", 1), true},
		{"server timeout", apierrors.NewServerTimeout(gr, "patch", 1), true},
		{"timeout", apierrors.NewTimeoutError("took too long", 1), true},
		{"unavailable", apierrors.NewServiceUnavailable("restarting"), true},
		{"internal error", apierrors.NewInternalError(errors.New("etcd")), true},
		{"bad gateway", apierrors.NewGenericServerResponse(502, "patch", gr, "shop", "proxy", 0, false), true},
		{"wrapped conflict", fmt.Errorf("shift service: %w", apierrors.NewConflict(gr, "shop", errors.New("changed"))), true},
		{"not found", apierrors.NewNotFound(gr, "shop"), false},
		{"forbidden", apierrors.NewForbidden(gr, "shop", errors.New("rbac")), false},
		{"invalid", apierrors.NewBadRequest("bad selector"), false},
		{"plain error", errors.New("boom"), false},
		{"nil", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Transient(tt.err)
			if engine.IsTransient(got) != tt.want {
				t.Fatalf("Transient(%v) transient = %v, want %v", tt.err, engine.IsTransient(got), tt.want)
			}
			if tt.err == nil && got != nil {
				t.Fatalf("Transient(nil) = %v, want nil", got)
			}
			if tt.err != nil && !errors.Is(got, tt.err) {
				t.Fatalf("Transient(%v) lost the error: %v", tt.err, got)
			}
		})
	}
}
