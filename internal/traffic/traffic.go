// Package traffic owns the Router interface: how bluegreen observes and moves
// the split of production traffic between two colors. Each router lives in a
// sub-package and registers itself by name.
package traffic

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/bluegreen/bluegreen/internal/clock"
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
	// Carriers name, per color, what carries that color's share (a set
	// identifier, an upstream), for plans and reports.
	Carriers map[string]string `json:",omitempty"`
	// Settle is how long clients may keep using the old split after a shift
	// (a DNS record's TTL); zero when a shift takes effect at once.
	Settle time.Duration `json:",omitempty"`
	// Entrances are the gateways of a namespace-scope target that checks
	// send their requests to, and Hosts the Host header that reaches
	// production (HostProd) and the idle color (HostPreprod) through them.
	Entrances []Entrance        `json:",omitempty"`
	Hosts     map[string]string `json:",omitempty"`
}

// Keys of Target.Hosts.
const (
	HostProd    = "prod"
	HostPreprod = "preprod"
)

// Entrance is a gateway that a request can be sent to directly, so that a
// check reaches a host through each gateway of a set.
type Entrance struct {
	// Name names the gateway in results and errors.
	Name string
	// Address is host:port, where the gateway serves plain HTTP.
	Address string
}

// Router observes and shifts a split. Shift is idempotent and safe to repeat.
type Router interface {
	Observe(ctx context.Context, t Target) (Split, error)
	Shift(ctx context.Context, t Target, s Split) error
}

// Optional capabilities. A caller asks for one with a type assertion on
// the Router and does without it when the router lacks it, so that no
// package outside a router's own names the router.

// Verifier is implemented by routers whose Shift writes more than the
// split (a DNS record's value or alias target along with its weight).
// Mismatches describes, one line each, where the live objects differ from
// the target's configuration in what Shift would write besides the split,
// so that a caller can refuse before a Shift silently overwrites them.
type Verifier interface {
	Mismatches(ctx context.Context, t Target) ([]string, error)
}

// LateObserver is implemented by routers whose split can only be observed
// once the target's standby objects exist (an annotation on an object that
// the standby copy creates). A caller observing before the standby copy
// treats an error from Observe as "not yet" rather than as a failure.
type LateObserver interface {
	ObservableAfterStandby(t Target) bool
}

// StandbyMutator is implemented by routers that carry a color's share on
// objects copied from one cluster to the other: MutateStandby returns the
// edit the copy of each object needs for color (nil when none does).
type StandbyMutator interface {
	MutateStandby(targets []Target, color string) func(*unstructured.Unstructured) error
}

// RecordSet is a weighted DNS record and the set identifier of each color.
type RecordSet struct {
	// ZoneID is the hosted zone ID.
	ZoneID string
	// Name and Type name the record, e.g. "app.example.com" and "CNAME".
	Name, Type string
	// SetIdentifiers are the weighted record sets a Shift writes.
	SetIdentifiers []string
}

// RecordSetter is implemented by routers that write weighted DNS record
// sets, so that preflight can check the sets exist and their TTLs.
type RecordSetter interface {
	RecordSet(t Target) (RecordSet, error)
}

// ServiceSwitch is a service-scope release: a production Service and a
// preview Service, each sending all traffic to one color of an app.
type ServiceSwitch struct {
	Namespace string
	// Active is the production Service; Preview reaches the idle color.
	Active, Preview string
	// ColorLabel is the pod label whose value is the color.
	ColorLabel string
}

// NamespaceSwitch is a namespace-scope product: the same services in two
// namespaces, one per color, behind gateways that send the production host
// to one of them and the preprod host to the other.
type NamespaceSwitch struct {
	Product string
	// Namespaces holds each color's namespace.
	Namespaces map[string]string
}

// Deps carries the clients a router may need. A router's constructor
// fails, naming the field, when one it needs is missing.
type Deps struct {
	// Kube is the cluster of a one-cluster scope.
	Kube kubernetes.Interface
	// Config is the REST config of Kube's cluster, for routers that need
	// clients of their own (typed clients of other API groups); clients
	// built from it share Kube's transport, and so its lock fence.
	Config *rest.Config
	// Clusters holds the cluster of each color, for routers that act on two
	// clusters at once (external-dns annotations).
	Clusters map[string]kubernetes.Interface
	// Route53 is the Route 53 API, an awscluster.Route53, which the
	// route53 router takes. It is untyped here so that package traffic,
	// which every scope imports, links no AWS API (Go initializes every
	// linked package at start, whatever the command).
	Route53 any
	// Clock paces a router's waits; nil means the wall clock.
	Clock clock.Clock
	// Log is where a router reports what it did and what it could not
	// confirm; nil means slog.Default().
	Log *slog.Logger
	// Crash, when set, is called at the points inside a shift where a
	// process could die half-way (between two gateways), so that tests can
	// kill it exactly there.
	Crash func(point string)
}

// ErrNotAdopted is what Observe returns, wrapped, when the gateways hold
// nothing of bluegreen's for a namespace-scope target yet: the product
// must be adopted (`bluegreen namespace init`) before a release.
var ErrNotAdopted = errors.New("not adopted by bluegreen yet")

// Plugin is a router's registration: its constructor and the spec parsers
// of the scopes it serves.
type Plugin struct {
	// Name is what specs write to choose the router.
	Name string
	// New builds the router from its dependencies.
	New func(Deps) (Router, error)
	// Records parses a cluster-scope "dns" section (JSON, the whole
	// section including its "router" field) into one target per record,
	// defaulting and validating every field; nil when the router does not
	// serve the cluster scope. Errors name the field and the fix.
	Records func(section []byte) ([]Target, error)
	// Service maps a service-scope release onto its two targets; nil when
	// the router does not serve the service scope.
	Service func(s ServiceSwitch) (active, preview Target)
	// Namespace parses a namespace-scope "gateway" section (JSON, the
	// whole section including its "router" field) into the one target
	// that moves a product's production host between its two namespaces,
	// defaulting and validating every field; nil when the router does not
	// serve the namespace scope. Errors name the field and the fix.
	Namespace func(n NamespaceSwitch, section []byte) (Target, error)
	// ServiceDefault makes this the router of service-scope releases;
	// ClusterDefault the router of a "dns" section that names none.
	ServiceDefault, ClusterDefault bool
}

var (
	mu      sync.RWMutex
	plugins = map[string]Plugin{}
)

// Register makes a router available by name; routers call it from init.
// Registering a name twice panics: two packages would claim one spec value.
func Register(p Plugin) {
	mu.Lock()
	defer mu.Unlock()
	if _, dup := plugins[p.Name]; dup || p.Name == "" || p.New == nil {
		panic(fmt.Sprintf("traffic: router %q registered twice, without a name or without New", p.Name))
	}
	plugins[p.Name] = p
}

// names lists the registered routers that keep is true for, as "a, b or
// c". The caller holds mu.
func names(keep func(Plugin) bool) string {
	var out []string
	for n, p := range plugins {
		if keep(p) {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	switch len(out) {
	case 0:
		return "none (no router is registered)"
	case 1:
		return out[0]
	}
	return strings.Join(out[:len(out)-1], ", ") + " or " + out[len(out)-1]
}

// New builds the router registered under name.
func New(name string, d Deps) (Router, error) {
	mu.RLock()
	p, ok := plugins[name]
	want := names(func(Plugin) bool { return true })
	mu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("no traffic router named %q: want %s", name, want)
	}
	r, err := p.New(d)
	if err != nil {
		return nil, fmt.Errorf("router %s: %w", name, err)
	}
	return r, nil
}

// Records parses a cluster-scope "dns" section with the router it names,
// or with the default one when name is empty.
func Records(name string, section []byte) ([]Target, error) {
	mu.RLock()
	if name == "" {
		name = clusterDefault()
	}
	p, ok := plugins[name]
	want := names(func(p Plugin) bool { return p.Records != nil })
	mu.RUnlock()
	if !ok || p.Records == nil {
		return nil, fmt.Errorf("dns.router %q: want %s", name, want)
	}
	return p.Records(section)
}

// Namespace parses a namespace-scope "gateway" section with the router it
// names (required: the namespace scope has no default router).
func Namespace(name string, n NamespaceSwitch, section []byte) (Target, error) {
	mu.RLock()
	p, ok := plugins[name]
	want := names(func(p Plugin) bool { return p.Namespace != nil })
	mu.RUnlock()
	if !ok || p.Namespace == nil {
		return Target{}, fmt.Errorf("gateway.router %q: want %s", name, want)
	}
	return p.Namespace(n, section)
}

// Service returns the name and the targets of the service-scope router.
func Service(s ServiceSwitch) (name string, active, preview Target, err error) {
	mu.RLock()
	defer mu.RUnlock()
	for n, p := range plugins {
		if p.ServiceDefault && p.Service != nil {
			active, preview = p.Service(s)
			return n, active, preview, nil
		}
	}
	return "", Target{}, Target{}, fmt.Errorf("no service-scope traffic router is registered")
}

// ClusterDefault names the cluster scope's default router.
func ClusterDefault() string {
	mu.RLock()
	defer mu.RUnlock()
	return clusterDefault()
}

func clusterDefault() string {
	for n, p := range plugins {
		if p.ClusterDefault {
			return n
		}
	}
	return ""
}

// NewService builds the service-scope router.
func NewService(d Deps) (Router, error) {
	name, _, _, err := Service(ServiceSwitch{})
	if err != nil {
		return nil, err
	}
	return New(name, d)
}
