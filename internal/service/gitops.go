package service

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/bluegreen/bluegreen/internal/gitops"
)

// Owned is an object a release changes that a GitOps tool manages.
type Owned struct {
	// Object is "service/shop" or "deployment/shop-green".
	Object string
	Owner  gitops.Owner
}

func (o Owned) String() string { return o.Object + " is managed by " + o.Owner.String() }

// GitOpsOwned reads the Services and Deployments a release of the app
// changes (missing ones are skipped) and returns those a GitOps tool
// manages. It writes nothing.
func GitOpsOwned(ctx context.Context, c kubernetes.Interface, ns string, services, deployments []string) ([]Owned, error) {
	var out []Owned
	for _, name := range services {
		s, err := c.CoreV1().Services(ns).Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("get service %s/%s: %w", ns, name, err)
		}
		if o, ok := gitops.OwnerOf(s); ok {
			out = append(out, Owned{"service/" + name, o})
		}
	}
	for _, name := range deployments {
		d, err := c.AppsV1().Deployments(ns).Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("get deployment %s/%s: %w", ns, name, err)
		}
		if o, ok := gitops.OwnerOf(d); ok {
			out = append(out, Owned{"deployment/" + name, o})
		}
	}
	return out, nil
}
