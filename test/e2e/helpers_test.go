package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"github.com/bluegreen/bluegreen/internal/runstore"
	"github.com/bluegreen/bluegreen/test/servicebed"
	"github.com/bluegreen/bluegreen/test/testbed"
)

// env is one scenario's world: a namespace, a journal, an audit log.
type env struct {
	t     *testing.T
	ns    string
	kube  kubernetes.Interface
	dir   string
	audit string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	ns := fmt.Sprintf("e2e-%d", time.Now().UnixNano()%1_000_000_000)
	e := &env{t: t, ns: ns, kube: cluster.Client, dir: t.TempDir()}
	e.audit = filepath.Join(e.dir, "audit.jsonl")
	ctx := context.Background()
	if _, err := e.kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = e.kube.CoreV1().Namespaces().Delete(context.Background(), ns, metav1.DeleteOptions{})
	})
	return e
}

// result is what one CLI invocation did.
type result struct {
	stdout, stderr string
	code           int
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
}

// cli runs the bluegreen binary against the scenario's namespace.
func (e *env) cli(extraEnv []string, args ...string) result {
	e.t.Helper()
	full := append([]string{"--kubeconfig", cluster.Kubeconfig, "-n", e.ns, "--audit-log", e.audit}, args...)
	cmd := exec.Command(cliBin, full...)
	cmd.Env = append(os.Environ(), extraEnv...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		e.t.Fatalf("run bluegreen: %v", err)
	}
	return result{out.String(), errb.String(), code}
}

func (e *env) mustCLI(args ...string) result {
	e.t.Helper()
	r := e.cli(nil, args...)
	if r.code != 0 {
		e.t.Fatalf("bluegreen %s: %s", strings.Join(args, " "), r)
	}
	return r
}

// givenBlueGreenApp installs app in the blue/green layout: blue live with
// replicas pods of image, green at 0, active on blue, preview on green.
func (e *env) givenBlueGreenApp(app, image string, replicas int32) {
	e.t.Helper()
	ctx := context.Background()
	if err := servicebed.InstallBlueGreen(ctx, e.kube, servicebed.App{Namespace: e.ns, Name: app, Image: image, Blue: replicas}); err != nil {
		e.t.Fatal(err)
	}
	e.waitReady(app+"-blue", replicas)
	e.waitEndpoints(app, "blue")
}

func (e *env) waitReady(name string, n int32) {
	e.t.Helper()
	e.eventually(fmt.Sprintf("deployment %s has %d ready pods", name, n), func() bool {
		d, err := e.kube.AppsV1().Deployments(e.ns).Get(context.Background(), name, metav1.GetOptions{})
		if err != nil {
			return false
		}
		st := d.Status
		return st.ObservedGeneration == d.Generation && st.ReadyReplicas == n && st.Replicas == n &&
			st.UpdatedReplicas == n && st.AvailableReplicas == n
	})
}

// waitEndpoints waits until the Service's EndpointSlices list only pods of color.
func (e *env) waitEndpoints(svc, color string) {
	e.t.Helper()
	e.eventually(fmt.Sprintf("service %s routes only to %s", svc, color), func() bool {
		colors := e.endpointColors(svc)
		return len(colors) == 1 && colors[0] == color
	})
}

// endpointColors returns the distinct colors of the ready endpoints of svc.
func (e *env) endpointColors(svc string) []string {
	ctx := context.Background()
	slices, err := e.kube.DiscoveryV1().EndpointSlices(e.ns).List(ctx, metav1.ListOptions{LabelSelector: "kubernetes.io/service-name=" + svc})
	if err != nil {
		e.t.Fatal(err)
	}
	pods, err := e.kube.CoreV1().Pods(e.ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		e.t.Fatal(err)
	}
	byName := map[string]string{}
	for _, p := range pods.Items {
		byName[p.Name] = p.Labels["track"]
	}
	set := map[string]bool{}
	for _, s := range slices.Items {
		for _, ep := range s.Endpoints {
			if ep.TargetRef != nil && ptr.Deref(ep.Conditions.Ready, false) {
				set[byName[ep.TargetRef.Name]] = true
			}
		}
	}
	var out []string
	for c := range set {
		out = append(out, c)
	}
	sort.Strings(out)
	return out
}

// eventually waits, up to 90 s, until cond holds.
func (e *env) eventually(what string, cond func() bool) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	if err := testbed.WaitFor(ctx, func(context.Context) (bool, error) { return cond(), nil }); err != nil {
		e.t.Fatalf("timed out waiting until %s", what)
	}
}

// appState is the part of the cluster a release changes.
type appState struct {
	ActiveSelects, PreviewSelects string
	BlueImage, GreenImage         string
	BlueReplicas, GreenReplicas   int32
}

func (e *env) state(app string) appState {
	e.t.Helper()
	ctx := context.Background()
	var s appState
	for name, dst := range map[string]*string{app: &s.ActiveSelects, app + "-preview": &s.PreviewSelects} {
		svc, err := e.kube.CoreV1().Services(e.ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			e.t.Fatal(err)
		}
		*dst = svc.Spec.Selector["track"]
	}
	for name, dst := range map[string]struct {
		img *string
		n   *int32
	}{app + "-blue": {&s.BlueImage, &s.BlueReplicas}, app + "-green": {&s.GreenImage, &s.GreenReplicas}} {
		d, err := e.kube.AppsV1().Deployments(e.ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			e.t.Fatal(err)
		}
		*dst.img, *dst.n = d.Spec.Template.Spec.Containers[0].Image, ptr.Deref(d.Spec.Replicas, 1)
	}
	return s
}

// healthServer is a real HTTP endpoint for the checks; it answers 200 "ok"
// until failing is set, then 503.
type healthServer struct {
	*httptest.Server
	failing atomic.Bool
	hits    atomic.Int64
}

func newHealthServer(t *testing.T) *healthServer {
	h := &healthServer{}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		h.hits.Add(1)
		if h.failing.Load() {
			http.Error(w, "unhealthy", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprint(w, "ok")
	}))
	t.Cleanup(h.Close)
	return h
}

// statusJSON is the subset of `status -o json` the scenarios read.
type statusJSON struct {
	ActiveColor string `json:"activeColor"`
	Rollback    struct {
		Color, Cost string
		Ready       int32
	} `json:"rollback"`
	Runs []struct {
		ID, Operation, State, Reason string
	} `json:"runs"`
}

func (e *env) status(app string) statusJSON {
	e.t.Helper()
	r := e.mustCLI("status", app, "-o", "json")
	var s statusJSON
	if err := json.Unmarshal([]byte(r.stdout), &s); err != nil {
		e.t.Fatalf("status -o json: %v\n%s", err, r.stdout)
	}
	return s
}

func (e *env) resourceVersion(kind, name string) string {
	e.t.Helper()
	ctx := context.Background()
	var rv string
	switch kind {
	case "service":
		o, err := e.kube.CoreV1().Services(e.ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			e.t.Fatal(err)
		}
		rv = o.ResourceVersion
	case "deployment":
		o, err := e.kube.AppsV1().Deployments(e.ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			e.t.Fatal(err)
		}
		rv = o.ResourceVersion
	}
	return rv
}

// freePort returns a loopback port nothing listens on.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	_ = l.Close()
	return port
}

// runs reads the run records of the env's namespace in the cluster, as
// any machine would.
func (e *env) runs() *runstore.Store {
	e.t.Helper()
	dyn, err := dynamic.NewForConfig(cluster.Config)
	if err != nil {
		e.t.Fatal(err)
	}
	st, err := runstore.Open(context.Background(), e.kube, dyn, e.ns)
	if err != nil {
		e.t.Fatal(err)
	}
	return st
}
