package traffic

import (
	"context"
	"strings"
	"testing"
)

type nop struct{}

func (nop) Observe(context.Context, Target) (Split, error) { return Split{"blue": 100}, nil }
func (nop) Shift(context.Context, Target, Split) error     { return nil }

// The registry refuses what would make a spec ambiguous or a router
// unusable, and its errors list what a spec may write instead.
func TestRegistry(t *testing.T) {
	Register(Plugin{Name: "test-between-clusters", New: func(Deps) (Router, error) { return nop{}, nil },
		Records: func([]byte) ([]Target, error) { return []Target{{Name: "x"}}, nil }})
	Register(Plugin{Name: "test-service-only", New: func(Deps) (Router, error) { return nop{}, nil }})

	tests := []struct {
		name string
		run  func() error
		want string
	}{
		{"unknown router", func() error { _, err := New("nosuch", Deps{}); return err }, `no traffic router named "nosuch": want test-between-clusters or test-service-only`},
		{"router that does not serve the cluster scope", func() error { _, err := Records("test-service-only", nil); return err },
			`dns.router "test-service-only": want test-between-clusters`},
		{"no default router", func() error { _, err := Records("", nil); return err }, `dns.router "": want test-between-clusters`},
		{"no service router", func() error { _, err := NewService(Deps{}); return err }, "no service-scope traffic router"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.run(); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want one containing %q", err, tt.want)
			}
		})
	}
	if targets, err := Records("test-between-clusters", nil); err != nil || len(targets) != 1 {
		t.Fatalf("Records through the registry = %v, %v", targets, err)
	}
	defer func() {
		if recover() == nil {
			t.Fatal("registering a name twice did not panic")
		}
	}()
	Register(Plugin{Name: "test-service-only", New: func(Deps) (Router, error) { return nop{}, nil }})
}
