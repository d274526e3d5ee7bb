// Package traffic owns the Router interface: how bluegreen observes and moves
// the split of production traffic between two colors. Each router lives in a
// sub-package and registers itself by name.
package traffic

import (
	"context"
	"fmt"
	"sort"
	"sync"
)

// Split is the share of traffic per color, in percent, summing to 100.
type Split map[string]int

// String renders "blue=100,green=0".
func (s Split) String() string {
	keys := make([]string, 0, len(s))
	for k := range s {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := ""
	for i, k := range keys {
		if i > 0 {
			out += ","
		}
		out += fmt.Sprintf("%s=%d", k, s[k])
	}
	return out
}

// All returns the split that sends everything to color.
func All(color, other string) Split { return Split{color: 100, other: 0} }

// Target is what a router moves traffic for; routers read the fields they need.
type Target struct {
	Namespace string
	// Name is the object that carries the split (a Service, an HTTPRoute, a record).
	Name string
	// Options are router-specific settings (e.g. the color label key).
	Options map[string]string
}

// Router observes and shifts a split. Shift is idempotent and safe to repeat.
type Router interface {
	Observe(ctx context.Context, t Target) (Split, error)
	Shift(ctx context.Context, t Target, s Split) error
}

// Verifier is implemented by routers whose Shift writes more than the
// split (a DNS record's value or alias target along with its weight).
// Mismatches describes, one line each, where the live objects differ from
// the target's configuration in what Shift would write besides the split,
// so that a caller can refuse before a Shift silently overwrites them.
type Verifier interface {
	Mismatches(ctx context.Context, t Target) ([]string, error)
}

var (
	mu       sync.RWMutex
	builders = map[string]func(Deps) Router{}
)

// Deps carries the clients a router may need.
type Deps struct {
	Kube any // kubernetes.Interface; typed by the routers that use it
	// Clusters holds a kubernetes.Interface per color, for routers that act
	// on two clusters at once (external-dns annotations).
	Clusters map[string]any
	// Route53 is the Route 53 API (internal/aws.Route53) for the route53 router.
	Route53 any
}

// Register makes a router constructor available by name; routers call it
// from init.
func Register(name string, build func(Deps) Router) {
	mu.Lock()
	defer mu.Unlock()
	builders[name] = build
}

// New builds the router registered under name.
func New(name string, d Deps) (Router, error) {
	mu.RLock()
	defer mu.RUnlock()
	b, ok := builders[name]
	if !ok {
		return nil, fmt.Errorf("no traffic router named %q", name)
	}
	return b(d), nil
}
