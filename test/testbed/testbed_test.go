package testbed_test

import (
	"context"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"

	"github.com/bluegreen/bluegreen/test/testbed"
)

// waitTimeout bounds each wait on the cluster.
const waitTimeout = time.Minute

func TestTwoClustersSideBySide(t *testing.T) {
	t.Parallel()
	a := testbed.StartT(t, testbed.Options{Name: "side-a"})
	b := testbed.StartT(t, testbed.Options{Name: "side-b", Nodes: 3, ServiceCIDR: "10.100.0.0/16"})
	ctx := t.Context()

	if a.Config.Host == b.Config.Host || a.Name == b.Name {
		t.Fatalf("clusters share an endpoint or name: %s %s, %s %s", a.Name, a.Config.Host, b.Name, b.Config.Host)
	}
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "only-in-a"}, Data: map[string]string{"k": "v"}}
	if _, err := a.Client.CoreV1().ConfigMaps("default").Create(ctx, cm, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create config map in a: %v", err)
	}
	if _, err := b.Client.CoreV1().ConfigMaps("default").Get(ctx, cm.Name, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("config map of cluster a in cluster b: got err %v, want NotFound", err)
	}
	checkNodes(t, a, 2)
	checkNodes(t, b, 3)
	checkServiceIP(t, a, testbed.DefaultServiceCIDR)
	checkServiceIP(t, b, "10.100.0.0/16")
	t.Logf("memory: cluster %s %d MiB, cluster %s %d MiB", a.Name, rssMiB(a.PIDs()), b.Name, rssMiB(b.PIDs()))
}

// checkNodes checks that c has want Ready nodes labelled and identified like
// EKS nodes, in alternating zones.
func checkNodes(t *testing.T, c *testbed.Cluster, want int) {
	t.Helper()
	nodes, err := c.Client.CoreV1().Nodes().List(t.Context(), metav1.ListOptions{})
	if err != nil {
		t.Fatalf("list nodes: %v", err)
	}
	if len(nodes.Items) != want {
		t.Fatalf("cluster %s has %d nodes, want %d", c.Name, len(nodes.Items), want)
	}
	providerID := regexp.MustCompile(`^aws:///us-east-1[a-c]/i-[0-9a-f]{17}$`)
	for i, n := range nodes.Items {
		zone := testbed.DefaultZones[i%len(testbed.DefaultZones)]
		if got := n.Labels[testbed.ZoneLabel]; got != zone {
			t.Errorf("node %s zone %q, want %q", n.Name, got, zone)
		}
		if !providerID.MatchString(n.Spec.ProviderID) || !strings.Contains(n.Spec.ProviderID, zone) {
			t.Errorf("node %s provider ID %q", n.Name, n.Spec.ProviderID)
		}
		if !nodeReady(n.Status.Conditions) {
			t.Errorf("node %s not Ready: %+v", n.Name, n.Status.Conditions)
		}
	}
}

// nodeReady reports whether node conditions include Ready=True.
func nodeReady(conds []corev1.NodeCondition) bool {
	return slices.ContainsFunc(conds, func(c corev1.NodeCondition) bool {
		return c.Type == corev1.NodeReady && c.Status == corev1.ConditionTrue
	})
}

// checkServiceIP creates a Service in c and checks that its cluster IP lies
// in cidr.
func checkServiceIP(t *testing.T, c *testbed.Cluster, cidr string) {
	t.Helper()
	svc, err := c.Client.CoreV1().Services("default").Create(t.Context(), service("ip-check", "ip-check"), metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create service: %v", err)
	}
	ip, err := netip.ParseAddr(svc.Spec.ClusterIP)
	if err != nil || !netip.MustParsePrefix(cidr).Contains(ip) || c.ServiceCIDR != cidr {
		t.Errorf("cluster %s (service CIDR %s): service IP %q not in %s (%v)", c.Name, c.ServiceCIDR, svc.Spec.ClusterIP, cidr, err)
	}
}

func TestDeploymentReadyAndEndpoints(t *testing.T) {
	t.Parallel()
	c := testbed.StartT(t, testbed.Options{})
	ctx, cancel := context.WithTimeout(t.Context(), waitTimeout)
	defer cancel()

	createDeployment(t, c.Client, "web", "example.com/app:v1", 3)
	if _, err := c.Client.CoreV1().Services("default").Create(ctx, service("web", "web"), metav1.CreateOptions{}); err != nil {
		t.Fatalf("create service: %v", err)
	}
	var ready []string
	err := testbed.WaitFor(ctx, func(ctx context.Context) (bool, error) {
		pods, err := listPods(ctx, c.Client, "web")
		ready = nil
		for _, p := range pods {
			if p.Status.Phase == corev1.PodRunning && podReady(p) {
				ready = append(ready, p.Status.PodIP)
			}
		}
		return len(ready) == 3, err
	})
	if err != nil {
		t.Fatalf("waiting for 3 ready pods: %v", err)
	}
	var endpoints []string
	err = testbed.WaitFor(ctx, func(ctx context.Context) (bool, error) {
		endpoints, err = readyEndpoints(ctx, c.Client, "web")
		slices.Sort(endpoints)
		slices.Sort(ready)
		return slices.Equal(endpoints, ready), err
	})
	if err != nil {
		t.Fatalf("EndpointSlices of service web list %v, want the ready pods %v: %v", endpoints, ready, err)
	}
}

func TestUnreadyImage(t *testing.T) {
	t.Parallel()
	c := testbed.StartT(t, testbed.Options{})
	ctx, cancel := context.WithTimeout(t.Context(), waitTimeout)
	defer cancel()

	createDeployment(t, c.Client, "broken", "example.com/app:v3-"+testbed.UnreadyMarker, 2)
	err := testbed.WaitFor(ctx, func(ctx context.Context) (bool, error) {
		pods, err := listPods(ctx, c.Client, "broken")
		running := 0
		for _, p := range pods {
			if p.Status.Phase == corev1.PodRunning {
				running++
			}
		}
		return running == 2, err
	})
	if err != nil {
		t.Fatalf("waiting for 2 running pods: %v", err)
	}
	time.Sleep(3 * time.Second)
	pods, err := listPods(ctx, c.Client, "broken")
	if err != nil || len(pods) != 2 {
		t.Fatalf("list pods: %d pods, err %v", len(pods), err)
	}
	for _, p := range pods {
		if p.Status.Phase != corev1.PodRunning || podReady(p) || p.Status.PodIP == "" {
			t.Errorf("pod %s: phase %s, ready %v, IP %q; want Running, not ready, with IP",
				p.Name, p.Status.Phase, podReady(p), p.Status.PodIP)
		}
	}
	dep, err := c.Client.AppsV1().Deployments("default").Get(ctx, "broken", metav1.GetOptions{})
	if err != nil || dep.Status.ReadyReplicas != 0 {
		t.Errorf("deployment broken: ready replicas %d (err %v), want 0", dep.Status.ReadyReplicas, err)
	}
}

func TestStopLeavesNothing(t *testing.T) {
	t.Parallel()
	c := testbed.StartT(t, testbed.Options{Nodes: -1})
	pids := c.PIDs()
	if len(pids) != 5 {
		t.Fatalf("cluster has %d processes %v, want 5 (etcd, apiserver, controller manager, scheduler, kwok)", len(pids), pids)
	}
	if err := c.Stop(t.Context()); err != nil {
		t.Fatalf("stop: %v", err)
	}
	for _, pid := range pids {
		if testbed.Alive(pid) {
			t.Errorf("process %d still running after Stop", pid)
		}
	}
	if left := c.PIDs(); len(left) != 0 {
		t.Errorf("PIDs after Stop: %v", left)
	}
	if _, err := os.Stat(c.WorkDir); !os.IsNotExist(err) {
		t.Errorf("work dir still there after Stop: %v", err)
	}
	if err := c.Stop(t.Context()); err != nil {
		t.Errorf("second Stop: %v", err)
	}
}

// TestCacheKeyMatchesScript checks that hack/testbed.sh and BinDir agree on
// the cache folder and the kwok version.
func TestCacheKeyMatchesScript(t *testing.T) {
	root, err := testbed.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(root, "hack", "testbed.sh")
	data, err := os.ReadFile(script)
	if err != nil {
		t.Fatal(err)
	}
	if want := "\nKWOK_VERSION=" + testbed.KwokVersion + "\n"; !strings.Contains(string(data), want) {
		t.Errorf("hack/testbed.sh does not set KWOK_VERSION=%s", testbed.KwokVersion)
	}
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("no bash")
	}
	out, err := exec.CommandContext(t.Context(), "bash", script, "--key").Output()
	if err != nil {
		t.Fatalf("hack/testbed.sh --key: %v", err)
	}
	key, err := testbed.CacheKey(root)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(string(out)); got != key {
		t.Errorf("hack/testbed.sh key %q, CacheKey %q", got, key)
	}
}

// createDeployment creates a Deployment whose pods carry label app=name.
func createDeployment(t *testing.T, client kubernetes.Interface, name, image string, replicas int32) {
	t.Helper()
	labels := map[string]string{"app": name}
	dep := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{
					Name: "app", Image: image, Ports: []corev1.ContainerPort{{ContainerPort: 8080}},
				}}},
			},
		},
	}
	if _, err := client.AppsV1().Deployments("default").Create(t.Context(), dep, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create deployment %s: %v", name, err)
	}
}

// service returns a Service selecting pods with label app=app.
func service(name, app string) *corev1.Service {
	return &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: corev1.ServiceSpec{
			Selector: map[string]string{"app": app},
			Ports:    []corev1.ServicePort{{Port: 80, TargetPort: intstr.FromInt32(8080)}},
		},
	}
}

// listPods lists the pods with label app=app.
func listPods(ctx context.Context, client kubernetes.Interface, app string) ([]corev1.Pod, error) {
	list, err := client.CoreV1().Pods("default").List(ctx, metav1.ListOptions{LabelSelector: "app=" + app})
	if err != nil {
		return nil, err
	}
	return list.Items, nil
}

// podReady reports whether p's Ready condition is True.
func podReady(p corev1.Pod) bool {
	return slices.ContainsFunc(p.Status.Conditions, func(c corev1.PodCondition) bool {
		return c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue
	})
}

// readyEndpoints returns the addresses of ready endpoints in the
// EndpointSlices of service svc.
func readyEndpoints(ctx context.Context, client kubernetes.Interface, svc string) ([]string, error) {
	list, err := client.DiscoveryV1().EndpointSlices("default").List(ctx,
		metav1.ListOptions{LabelSelector: discoveryv1.LabelServiceName + "=" + svc})
	if err != nil {
		return nil, err
	}
	var addrs []string
	for _, s := range list.Items {
		for _, ep := range s.Endpoints {
			if ep.Conditions.Ready != nil && *ep.Conditions.Ready {
				addrs = append(addrs, ep.Addresses...)
			}
		}
	}
	return addrs, nil
}

// rssMiB returns the summed resident memory of pids in MiB (0 without
// procfs).
func rssMiB(pids []int) int {
	kib := 0
	for _, pid := range pids {
		data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(data), "\n") {
			if fields := strings.Fields(line); len(fields) >= 2 && fields[0] == "VmRSS:" {
				n, _ := strconv.Atoi(fields[1])
				kib += n
			}
		}
	}
	return kib / 1024
}
