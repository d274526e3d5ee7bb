package testbed

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Labels and annotations of fake nodes.
const (
	// ZoneLabel is the well-known label holding a node's zone.
	ZoneLabel = "topology.kubernetes.io/zone"
	// RegionLabel is the well-known label holding a node's region.
	RegionLabel = "topology.kubernetes.io/region"
	// kwokNodeAnnotation marks a node as kwok's (kwok manages all nodes of a
	// test-bed cluster anyway: kwokctl runs it with --manage-all-nodes).
	kwokNodeAnnotation = "kwok.x-k8s.io/node"
	instanceType       = "m5.large"
)

// createNodes creates the fake nodes and waits until they are Ready.
func (c *Cluster) createNodes(ctx context.Context) error {
	for i := range c.opts.Nodes {
		node := fakeNode(i, c.opts.Zones[i%len(c.opts.Zones)])
		if _, err := c.Client.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{}); err != nil {
			return fmt.Errorf("create node %s: %w", node.Name, err)
		}
		c.NodeNames = append(c.NodeNames, node.Name)
	}
	err := c.waitHealthy(ctx, func(ctx context.Context) (bool, error) {
		for _, name := range c.NodeNames {
			node, err := c.Client.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				return false, fmt.Errorf("get node %s: %w", name, err)
			}
			if !nodeReady(node) {
				return false, nil
			}
		}
		return true, nil
	})
	if err != nil {
		return fmt.Errorf("wait for nodes to be Ready: %w", err)
	}
	return nil
}

// fakeNode returns node i in zone, labelled and identified like an EKS node
// (provider ID aws:///<zone>/i-<17 hex digits>), with its own pod CIDR.
func fakeNode(i int, zone string) *corev1.Node {
	name := fmt.Sprintf("node-%d", i)
	region := zone
	if n := len(zone); n > 1 && zone[n-1] >= 'a' && zone[n-1] <= 'z' {
		region = zone[:n-1]
	}
	podCIDR := fmt.Sprintf("10.%d.%d.0/24", 128+i/256, i%256)
	return &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{
			Name: name,
			Labels: map[string]string{
				"kubernetes.io/hostname":           name,
				"kubernetes.io/os":                 "linux",
				"kubernetes.io/arch":               "amd64",
				"node.kubernetes.io/instance-type": instanceType,
				ZoneLabel:                          zone,
				RegionLabel:                        region,
				"type":                             "kwok",
			},
			Annotations: map[string]string{
				kwokNodeAnnotation:             "fake",
				"node.alpha.kubernetes.io/ttl": "0",
			},
		},
		Spec: corev1.NodeSpec{
			ProviderID: fmt.Sprintf("aws:///%s/i-%s", zone, randomHex(9)[:17]),
			PodCIDR:    podCIDR,
			PodCIDRs:   []string{podCIDR},
		},
	}
}

// nodeReady reports whether node's Ready condition is True.
func nodeReady(node *corev1.Node) bool {
	for _, cond := range node.Status.Conditions {
		if cond.Type == corev1.NodeReady {
			return cond.Status == corev1.ConditionTrue
		}
	}
	return false
}
