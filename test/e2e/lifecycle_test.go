package e2e

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/bluegreen/bluegreen/test/servicebed"
)

func TestInitLiveDeployment(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	// Given a plain Deployment "web" behind Service "web"
	labels := map[string]string{"app": "web"}
	if _, err := e.kube.AppsV1().Deployments(e.ns).Create(ctx, servicebed.Deployment(e.ns, "web", 3, labels, v1), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.kube.CoreV1().Services(e.ns).Create(ctx, servicebed.Service(e.ns, "web", labels), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	e.waitReady("web", 3)

	// While init runs, the Service must never have zero ready endpoints.
	stop := make(chan struct{})
	emptySeen := make(chan bool, 1)
	go func() {
		empty := false
		for {
			select {
			case <-stop:
				emptySeen <- empty
				return
			default:
			}
			if e.readyEndpoints("web") == 0 {
				empty = true
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
	// When init runs
	r := e.mustCLI("init", "web")
	close(stop)

	// Then the blue/green layout serves the same pods' spec, and no moment
	// went without a ready endpoint
	if <-emptySeen {
		t.Fatal("the Service had zero ready endpoints during init")
	}
	want := appState{ActiveSelects: "blue", PreviewSelects: "green", BlueImage: v1, GreenImage: v1, BlueReplicas: 3, GreenReplicas: 0}
	if got := e.state("web"); got != want {
		t.Fatalf("after init: %+v, want %+v\n%s", got, want, r)
	}
	e.waitEndpoints("web", "blue")
	orig, err := e.kube.AppsV1().Deployments(e.ns).Get(ctx, "web", metav1.GetOptions{})
	if err != nil || ptr.Deref(orig.Spec.Replicas, 1) != 0 {
		t.Fatalf("original Deployment should be kept at 0 replicas: %v %v", err, orig.Spec.Replicas)
	}
	// And a second init changes nothing
	e.waitReady("web", 0)
	e.waitReady("web-blue", 3)
	before := e.snapshot()
	r = e.mustCLI("init", "web")
	if !strings.Contains(r.stdout, "already has the blue/green layout") {
		t.Fatalf("second init: %s", r)
	}
	if after := e.snapshot(); !reflect.DeepEqual(before, after) {
		t.Fatalf("second init changed the namespace: %v → %v", before, after)
	}
	// And the app can now be released
	e.mustCLI("deploy", "web", "--image", v2, "--yes")
	if s := e.state("web"); s.ActiveSelects != "green" || s.GreenImage != v2 {
		t.Fatalf("release after init: %+v", s)
	}
}

func (e *env) readyEndpoints(svc string) int {
	slices, err := e.kube.DiscoveryV1().EndpointSlices(e.ns).List(context.Background(), metav1.ListOptions{LabelSelector: "kubernetes.io/service-name=" + svc})
	if err != nil {
		return -1
	}
	n := 0
	for _, s := range slices.Items {
		for _, ep := range s.Endpoints {
			if ptr.Deref(ep.Conditions.Ready, false) {
				n++
			}
		}
	}
	return n
}

func TestConcurrentDeploysOneProceeds(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.givenBlueGreenApp("shop", v1, 2)
	// Given a release that holds the lock until the test lets its smoke
	// test end (it waits for a file)
	release := filepath.Join(t.TempDir(), "release")
	first := make(chan result, 1)
	go func() {
		first <- e.cli(nil, "deploy", "shop", "--image", v2, "--yes", "--smoke-cmd", "while [ ! -e "+release+" ]; do sleep 0.1; done")
	}()
	e.eventually("the first release holds the lease", func() bool {
		l, err := e.kube.CoordinationV1().Leases(e.ns).Get(context.Background(), "bluegreen-shop", metav1.GetOptions{})
		return err == nil && ptr.Deref(l.Spec.HolderIdentity, "") != ""
	})
	// When a second release starts
	second := e.cli(nil, "deploy", "shop", "--image", "registry.example.com/shop:3.0.0", "--yes")

	// Then it is refused, naming the holder, and the first one completes
	if second.code != 3 || !strings.Contains(second.stderr, "held by") || !strings.Contains(second.stderr, "run=") {
		t.Fatalf("second deploy: want exit 3 naming the lock holder, got %s", second)
	}
	if err := os.WriteFile(release, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if r := <-first; r.code != 0 {
		t.Fatalf("first deploy: %s", r)
	}
	if s := e.state("shop"); s.GreenImage != v2 || s.ActiveSelects != "green" {
		t.Fatalf("after both: %+v", s)
	}
}

func TestAbortRunningRelease(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.givenBlueGreenApp("shop", v1, 2)
	before := e.state("shop")
	// Given a release busy in a long smoke test
	running := make(chan result, 1)
	go func() { running <- e.cli(nil, "deploy", "shop", "--image", v2, "--yes", "--smoke-cmd", "sleep 60") }()
	e.eventually("the idle color runs the new image", func() bool { return e.state("shop").GreenImage == v2 })
	// When someone aborts it from another terminal
	r := e.mustCLI("abort", "shop")
	if !strings.Contains(r.stdout, "Asked the running release") {
		t.Fatalf("abort output: %s", r)
	}
	// Then the running release undoes itself and exits non-zero, well
	// before its smoke test would have ended
	got := <-running
	if got.code != 4 || !strings.Contains(got.stderr, "aborted") {
		t.Fatalf("aborted deploy: want exit 4, got %s", got)
	}
	if s := e.state("shop"); s != before {
		t.Fatalf("after abort: %+v, want %+v", s, before)
	}
	if s := e.status("shop"); s.Runs[0].State != "aborted" {
		t.Fatalf("run state %s, want aborted", s.Runs[0].State)
	}
}
