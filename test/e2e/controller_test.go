package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"sigs.k8s.io/yaml"

	"github.com/bluegreen/bluegreen/deploy"
	"github.com/bluegreen/bluegreen/test/testbed"
)

var releasesGVR = schema.GroupVersionResource{Group: "bluegreen.dev", Version: "v1alpha1", Resource: "bluegreenreleases"}

// A BlueGreenRelease is carried out by `bluegreen controller`: a new
// image switches production to it and the status says so; the run is the
// one every command reads. With Manual approval the run pauses at the
// switch, and `bluegreen promote` from a terminal lets it through. A
// SIGTERM stops the controller with exit 0.
func TestControllerReleasesDeclaredImages(t *testing.T) {
	e := newEnv(t)
	e.givenBlueGreenApp("shop", v1, 2)
	releases := givenReleaseCRDs(t, e.ns)
	ctl := startController(t, "-n", e.ns, "--watch-namespace", e.ns)
	metricsAddr := ctl.metrics
	createRelease(t, releases, "shop", v2)
	e.eventually("the controller switches production to "+v2, func() bool {
		s := e.state("shop")
		return s.ActiveSelects == "green" && s.GreenImage == v2
	})
	var st map[string]string
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("the release's last status: %v", st)
		}
	})
	e.eventually("the release's status says it is ready on "+v2, func() bool {
		st = releaseStatus(t, releases, "shop")
		return st["phase"] == "Idle" && st["activeImage"] == v2 && st["activeColor"] == "green" && st["lastRun"] == "succeeded" && st["Ready"] == "True"
	})
	if r := e.machine("teammate").must("status", "shop", "-o", "json"); !strings.Contains(r.stdout, `"operation": "deploy"`) || !strings.Contains(r.stdout, `"state": "succeeded"`) {
		t.Fatalf("bluegreen status does not show the controller's run:\n%s", r.stdout)
	}
	// kubectl describe bluegreenrelease shows what the run did.
	e.eventually("the release's Events tell the run started, switched and succeeded", func() bool {
		got := releaseEvents(t, e, "shop")
		return got["RunStarted"] && got["Switched"] && got["RunSucceeded"]
	})

	patch := `{"spec":{"image":"` + v3 + `","approval":"Manual"}}`
	if _, err := releases.Patch(context.Background(), "shop", types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	e.eventually("the run pauses at the switch", func() bool { return releaseStatus(t, releases, "shop")["phase"] == "Paused" })
	e.eventually("an Event on the release says it paused", func() bool { return releaseEvents(t, e, "shop")["RunPaused"] })
	if s := e.state("shop"); s.ActiveSelects != "green" || s.BlueImage != v3 {
		t.Fatalf("paused before the switch: %+v; want green active, blue on %s", s, v3)
	}
	e.machine("teammate").must("promote", "shop")
	e.eventually("production on "+v3+" after promote", func() bool {
		s := e.state("shop")
		return s.ActiveSelects == "blue" && s.BlueImage == v3
	})
	e.eventually("the status follows the promote", func() bool {
		st := releaseStatus(t, releases, "shop")
		return st["phase"] == "Idle" && st["activeImage"] == v3
	})

	// Promoted by annotation: it lets the paused run through, once.
	if _, err := releases.Patch(context.Background(), "shop", types.MergePatchType, []byte(`{"spec":{"image":"`+v2+`"}}`), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	e.eventually("the next run pauses too", func() bool { return releaseStatus(t, releases, "shop")["phase"] == "Paused" })
	annotate := `{"metadata":{"annotations":{"bluegreen.dev/promote":"yes"}}}`
	if _, err := releases.Patch(context.Background(), "shop", types.MergePatchType, []byte(annotate), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	e.eventually("production on "+v2+" after the annotation", func() bool {
		s := e.state("shop")
		return s.ActiveSelects == "green" && s.GreenImage == v2
	})
	if u, err := releases.Get(context.Background(), "shop", metav1.GetOptions{}); err != nil || u.GetAnnotations()["bluegreen.dev/promote"] != "" {
		t.Fatalf("the promote annotation stays after it was used (%v): %v", err, u.GetAnnotations())
	}

	// /metrics counts what this controller did: two deploys carried to
	// success (the second after its annotation), two pauses, two switches
	// timed (the CLI's promote switched the third itself), one release
	// idle, and the API calls the process made.
	var m map[string]string
	t.Cleanup(func() {
		if t.Failed() {
			for k, v := range m {
				if strings.HasPrefix(k, "bluegreen_") && !strings.Contains(k, "_bucket") {
					t.Logf("metric %s %s", k, v)
				}
			}
		}
	})
	e.eventually("the metrics count the releases", func() bool {
		m = scrape(t, "http://"+metricsAddr+"/metrics")
		return m[`bluegreen_runs_total{operation="deploy",result="succeeded"}`] == "2" &&
			m[`bluegreen_runs_total{operation="deploy",result="paused"}`] == "2" &&
			m[`bluegreen_step_duration_seconds_count{kind="switch"}`] == "2" &&
			m[`bluegreen_releases{phase="Idle"}`] == "1" && m[`bluegreen_releases{phase="Paused"}`] == "0" &&
			m[`rest_client_requests_total{code="200",host="`+strings.TrimPrefix(cluster.Config.Host, "https://")+`",method="GET"}`] != ""
	})

	ctl.stop()
}

// controllerProc is a `bluegreen controller` process on the test bed.
type controllerProc struct {
	t               *testing.T
	cmd             *exec.Cmd
	logs            *lockedBuffer
	metrics, probes string
	done            chan struct{}
	err             error
}

// startController starts `bluegreen controller -v` with args against the
// test bed, its metrics and probes on free local ports; the process is
// killed at the end of the test if it still runs, and its output logged
// if the test failed.
func startController(t *testing.T, args ...string) *controllerProc {
	t.Helper()
	return startControllerEnv(t, nil, args...)
}

// startControllerEnv is startController with more environment variables.
func startControllerEnv(t *testing.T, extraEnv []string, args ...string) *controllerProc {
	t.Helper()
	p := &controllerProc{t: t, logs: &lockedBuffer{}, done: make(chan struct{}),
		metrics: fmt.Sprintf("127.0.0.1:%d", freePort(t)), probes: fmt.Sprintf("127.0.0.1:%d", freePort(t))}
	full := append([]string{"controller", "-v", "--kubeconfig", cluster.Kubeconfig}, args...)
	full = append(full, "--metrics-bind-address", p.metrics, "--health-probe-bind-address", p.probes)
	p.cmd = exec.Command(cliBin, full...)
	p.cmd.Env = append(append(os.Environ(), "HOME="+t.TempDir()), extraEnv...)
	p.cmd.Stdout, p.cmd.Stderr = p.logs, p.logs
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.kill()
		if t.Failed() {
			t.Logf("controller %v output:\n%s", args, p.logs.String())
		}
	})
	return p
}

// kill ends the process with SIGKILL, as a crash or an OOM kill would.
func (p *controllerProc) kill() {
	_ = p.cmd.Process.Kill()
	<-p.done
}

// stop sends SIGTERM and fails the test unless the process exits 0
// within a minute.
func (p *controllerProc) stop() {
	p.t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		p.t.Fatal(err)
	}
	select {
	case <-p.done:
		if p.err != nil {
			p.t.Fatalf("controller after SIGTERM: %v", p.err)
		}
	case <-time.After(time.Minute):
		p.t.Fatalf("controller still running a minute after SIGTERM")
	}
}

// releaseEvents are the reasons of the Events on release name.
func releaseEvents(t *testing.T, e *env, name string) map[string]bool {
	t.Helper()
	evs, err := e.kube.CoreV1().Events(e.ns).List(context.Background(), metav1.ListOptions{
		FieldSelector: "involvedObject.kind=BlueGreenRelease,involvedObject.name=" + name})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, ev := range evs.Items {
		out[ev.Reason] = true
	}
	return out
}

// releaseStatus flattens what the test asserts of a release's status.
func releaseStatus(t *testing.T, ri dynamic.ResourceInterface, name string) map[string]string {
	t.Helper()
	u, err := ri.Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, f := range []string{"phase", "activeImage", "activeColor", "currentStep"} {
		out[f], _, _ = unstructured.NestedString(u.Object, "status", f)
	}
	out["lastRun"], _, _ = unstructured.NestedString(u.Object, "status", "lastRun", "state")
	conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	for _, c := range conds {
		if m, ok := c.(map[string]any); ok {
			out[fmt.Sprint(m["type"])] = fmt.Sprint(m["status"])
		}
	}
	return out
}

// givenReleaseCRDs installs the CRDs as the chart does (the releases' and
// the runs') and returns the BlueGreenReleases of namespace ns.
func givenReleaseCRDs(t *testing.T, ns string) dynamic.ResourceInterface {
	t.Helper()
	dyn, err := dynamic.NewForConfig(cluster.Config)
	if err != nil {
		t.Fatal(err)
	}
	installShippedCRD(t, dyn, "crds/bluegreen.dev_bluegreenruns.yaml")
	installShippedCRD(t, dyn, "crds/bluegreen.dev_bluegreenreleases.yaml")
	return dyn.Resource(releasesGVR).Namespace(ns)
}

// createRelease declares release name of image.
func createRelease(t *testing.T, releases dynamic.ResourceInterface, name, image string) {
	t.Helper()
	obj := &unstructured.Unstructured{}
	doc := "apiVersion: bluegreen.dev/v1alpha1\nkind: BlueGreenRelease\nmetadata: {name: " + name + "}\nspec: {image: " + image + "}\n"
	if err := yaml.Unmarshal([]byte(doc), &obj.Object); err != nil {
		t.Fatal(err)
	}
	if _, err := releases.Create(context.Background(), obj, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// installShippedCRD applies one of the CRDs bluegreen ships and waits
// until it is served.
func installShippedCRD(t *testing.T, dyn dynamic.Interface, file string) {
	t.Helper()
	data, err := deploy.CRDs.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := testbed.ApplyCRD(context.Background(), dyn, data); err != nil {
		t.Fatal(err)
	}
}

// scrape reads a Prometheus text page into series → value.
func scrape(t *testing.T, url string) map[string]string {
	t.Helper()
	resp, err := http.Get(url) //nolint:noctx // a test's one-off read of a local endpoint
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil
	}
	out := map[string]string{}
	for _, line := range strings.Split(string(body), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if i := strings.LastIndexByte(line, ' '); i > 0 {
			out[line[:i]] = line[i+1:]
		}
	}
	return out
}
