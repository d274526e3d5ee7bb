package dashboard

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	authzv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/bluegreen/bluegreen/internal/clock"
)

// Right is one API permission, as RBAC grants it.
type Right struct {
	Group, Resource, Subresource, Verb string
}

func (r Right) String() string {
	res := r.Resource
	if r.Subresource != "" {
		res += "/" + r.Subresource
	}
	if r.Group != "" {
		res += "." + r.Group
	}
	return r.Verb + " " + res
}

// Rights are the writes a promote or a rollback of a service-scope app
// makes: the run's record, its Lease, the Services' selectors and the
// colors' Deployments (image, replicas). They are a subset of the shipped
// bluegreen-service ClusterRole.
var Rights = map[Verb][]Right{
	Promote:  serviceWrites,
	Rollback: serviceWrites,
}

var serviceWrites = []Right{
	{Group: "bluegreen.dev", Resource: "bluegreenruns", Subresource: "status", Verb: "update"},
	{Group: "coordination.k8s.io", Resource: "leases", Verb: "create"},
	{Group: "coordination.k8s.io", Resource: "leases", Verb: "update"},
	{Resource: "services", Verb: "patch"},
	{Group: "apps", Resource: "deployments", Verb: "update"},
	{Group: "apps", Resource: "deployments", Subresource: "scale", Verb: "patch"},
}

// Access asks the API server, with SelfSubjectAccessReviews, whether the
// user the dashboard acts as may take a verb in a namespace: the same
// RBAC that would refuse the writes, asked before the first one. Answers
// are kept a few seconds per right (a page refreshes every few, and
// promote and rollback need the same rights).
type Access struct {
	Kube  kubernetes.Interface
	Clock clock.Clock
	// TTL is how long an answer is kept (10 s when zero).
	TTL time.Duration

	mu   sync.Mutex
	seen map[string]answer
}

type answer struct {
	allowed bool
	at      time.Time
}

// Missing returns the rights to take v in ns that the user lacks, as
// "patch services, update deployments.apps"; empty when it has them all.
func (a *Access) Missing(ctx context.Context, ns string, v Verb) (string, error) {
	var missing []string
	for _, r := range Rights[v] {
		ok, err := a.allowed(ctx, ns, r)
		if err != nil {
			return "", err
		}
		if !ok {
			missing = append(missing, r.String())
		}
	}
	return strings.Join(missing, ", "), nil
}

func (a *Access) allowed(ctx context.Context, ns string, r Right) (bool, error) {
	ttl := a.TTL
	if ttl == 0 {
		ttl = 10 * time.Second
	}
	key := ns + " " + r.String()
	a.mu.Lock()
	got, ok := a.seen[key]
	a.mu.Unlock()
	if ok && a.Clock.Now().Sub(got.at) < ttl {
		return got.allowed, nil
	}
	review := &authzv1.SelfSubjectAccessReview{Spec: authzv1.SelfSubjectAccessReviewSpec{ResourceAttributes: &authzv1.ResourceAttributes{
		Namespace: ns, Group: r.Group, Resource: r.Resource, Subresource: r.Subresource, Verb: r.Verb,
	}}}
	out, err := a.Kube.AuthorizationV1().SelfSubjectAccessReviews().Create(ctx, review, metav1.CreateOptions{})
	if err != nil {
		return false, fmt.Errorf("ask whether you may %s in namespace %s: %w", r, ns, err)
	}
	a.mu.Lock()
	if a.seen == nil {
		a.seen = map[string]answer{}
	}
	a.seen[key] = answer{allowed: out.Status.Allowed, at: a.Clock.Now()}
	a.mu.Unlock()
	return out.Status.Allowed, nil
}
