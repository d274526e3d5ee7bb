package preflight

import (
	"context"
	"fmt"
	"sort"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// lbControllerName is the AWS Load Balancer Controller's Deployment name
// and app.kubernetes.io/name label in its Helm chart.
const lbControllerName = "aws-load-balancer-controller"

// checkLBController: B's Services and Ingresses get their load balancers
// and target registrations from the AWS Load Balancer Controller, so it
// must run in B before any traffic moves there.
func checkLBController(ctx context.Context, p *probe) Result {
	sideB := side("B", p.in.Target)
	kube, err := kubeOf("B", p.in.Target)
	if err != nil {
		return errorResult(err)
	}
	deps, err := findLBControllers(ctx, kube)
	if err != nil {
		return kubeError(sideB, "list deployments in all namespaces", err)
	}
	install := fmt.Sprintf("install it in %s: helm install aws-load-balancer-controller eks/aws-load-balancer-controller -n kube-system "+
		"--set clusterName=%s --set serviceAccount.name=aws-load-balancer-controller (with an IAM role for its service account)", sideB, p.in.Target.Name)
	if len(deps) == 0 {
		return Result{Status: Fail,
			Detail: fmt.Sprintf("no Deployment named %s or labelled app.kubernetes.io/name=%s in %s", lbControllerName, lbControllerName, sideB),
			Hint:   install}
	}
	var ready, notReady []string
	for _, d := range deps {
		want := int32(1)
		if d.Spec.Replicas != nil {
			want = *d.Spec.Replicas
		}
		s := fmt.Sprintf("%s/%s %d/%d ready", d.Namespace, d.Name, d.Status.ReadyReplicas, want)
		if img := imageOf(d, ""); img != "" {
			s += " (" + img + ")"
		}
		if d.Status.ReadyReplicas > 0 {
			ready = append(ready, s)
		} else {
			notReady = append(notReady, s)
		}
	}
	if len(ready) == 0 {
		ns, name := deps[0].Namespace, deps[0].Name
		return Result{Status: Fail, Detail: "the Load Balancer Controller has no ready replica in " + sideB + ": " + strings.Join(notReady, ", "),
			Hint: fmt.Sprintf("see why its pods are not ready: kubectl -n %s describe deployment %s; kubectl -n %s logs deployment/%s "+
				"(a missing IAM role for its service account is the usual cause)", ns, name, ns, name)}
	}
	return Result{Status: Pass, Detail: strings.Join(append(ready, notReady...), ", ")}
}

// findLBControllers returns the Deployments named or labelled as the
// controller, in any namespace, sorted by namespace and name.
func findLBControllers(ctx context.Context, kube kubernetes.Interface) ([]appsv1.Deployment, error) {
	byKey := map[string]appsv1.Deployment{}
	for _, opts := range []metav1.ListOptions{
		{LabelSelector: "app.kubernetes.io/name=" + lbControllerName},
		{FieldSelector: "metadata.name=" + lbControllerName},
	} {
		list, err := kube.AppsV1().Deployments(metav1.NamespaceAll).List(ctx, opts)
		if err != nil {
			return nil, err
		}
		for _, d := range list.Items {
			byKey[d.Namespace+"/"+d.Name] = d
		}
	}
	out := make([]appsv1.Deployment, 0, len(byKey))
	for _, d := range byKey {
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i].Namespace+"/"+out[i].Name < out[j].Namespace+"/"+out[j].Name
	})
	return out, nil
}

// imageOf returns the image of the named container of d, or of its first
// container when name is empty.
func imageOf(d appsv1.Deployment, name string) string {
	for _, c := range d.Spec.Template.Spec.Containers {
		if name == "" || c.Name == name {
			return c.Image
		}
	}
	return ""
}

// kubeOf returns the cluster's Kubernetes client.
func kubeOf(letter string, c Cluster) (kubernetes.Interface, error) {
	if c.Kube == nil {
		return nil, &missingInput{what: "no Kubernetes client for " + side(letter, c), hint: "give preflight a Kubernetes client for both clusters"}
	}
	return c.Kube, nil
}
