// Package fleet runs `bluegreen controller` over many BlueGreenReleases on
// the test bed and measures it: the 20-release smoke test of `make test`
// and `make bench-controller` (100, 500 and 1,000 releases) share this
// code. A fleet is N apps in the blue/green layout (one pod a color),
// 100 to a namespace, each with a BlueGreenRelease.
package fleet

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/bluegreen/bluegreen/internal/journal"
	"github.com/bluegreen/bluegreen/internal/runstore"
	"github.com/bluegreen/bluegreen/test/servicebed"
	"github.com/bluegreen/bluegreen/test/testbed"
)

// PerNamespace is how many apps share a namespace.
const PerNamespace = 100

var releasesGVR = schema.GroupVersionResource{Group: "bluegreen.dev", Version: "v1alpha1", Resource: "bluegreenreleases"}

// App is one app of the fleet.
type App struct{ Namespace, Name string }

// Fleet is the apps and the clients that made them.
type Fleet struct {
	Kube kubernetes.Interface
	Dyn  dynamic.Interface
	Apps []App
	// Namespaces holds the apps, PerNamespace each.
	Namespaces []string
}

// Nodes is how many fake nodes a fleet of n apps needs: two pods an app
// during a release, under 110 to a node.
func Nodes(n int) int { return max(2, 2*n/80+1) }

// Setup creates n apps running image, their releases declaring it, and
// waits until every blue pod is Ready.
func Setup(ctx context.Context, c *testbed.Cluster, n int, image string) (*Fleet, error) {
	dyn, err := dynamic.NewForConfig(c.Config)
	if err != nil {
		return nil, err
	}
	f := &Fleet{Kube: c.Client, Dyn: dyn}
	for i := range n {
		ns := fmt.Sprintf("fleet-%d", i/PerNamespace)
		if i%PerNamespace == 0 {
			if _, err := c.Client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
				return nil, err
			}
			f.Namespaces = append(f.Namespaces, ns)
		}
		f.Apps = append(f.Apps, App{Namespace: ns, Name: fmt.Sprintf("app-%04d", i)})
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(16)
	for _, a := range f.Apps {
		g.Go(func() error {
			if err := servicebed.InstallBlueGreen(gctx, c.Client, servicebed.App{Namespace: a.Namespace, Name: a.Name, Image: image, Blue: 1}); err != nil {
				return err
			}
			obj := &unstructured.Unstructured{Object: map[string]any{
				"apiVersion": "bluegreen.dev/v1alpha1", "kind": "BlueGreenRelease",
				"metadata": map[string]any{"name": a.Name, "namespace": a.Namespace},
				"spec":     map[string]any{"image": image},
			}}
			_, err := dyn.Resource(releasesGVR).Namespace(a.Namespace).Create(gctx, obj, metav1.CreateOptions{})
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, fmt.Errorf("set up %d apps: %w", n, err)
	}
	return f, poll(ctx, func(ctx context.Context) (bool, error) {
		ready := 0
		for _, ns := range f.Namespaces {
			ds, err := c.Client.AppsV1().Deployments(ns).List(ctx, metav1.ListOptions{LabelSelector: servicebed.ColorLabel + "=blue"})
			if err != nil {
				return false, nil
			}
			for _, d := range ds.Items {
				if d.Status.ReadyReplicas == 1 {
					ready++
				}
			}
		}
		return ready == n, nil
	})
}

// Update sets image on every release at once (16 at a time) and returns
// when each was set.
func (f *Fleet) Update(ctx context.Context, image string) (map[App]time.Time, error) {
	var mu sync.Mutex
	at := make(map[App]time.Time, len(f.Apps))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(16)
	patch := []byte(`{"spec":{"image":"` + image + `"}}`)
	for _, a := range f.Apps {
		g.Go(func() error {
			if _, err := f.Dyn.Resource(releasesGVR).Namespace(a.Namespace).Patch(gctx, a.Name, types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
				return err
			}
			now := time.Now()
			mu.Lock()
			at[a] = now
			mu.Unlock()
			return nil
		})
	}
	return at, g.Wait()
}

// Settled counts the releases that report phase Idle on image, and
// returns an error naming those that ended Failed or RolledBack.
func (f *Fleet) Settled(ctx context.Context, image string) (int, error) {
	n := 0
	var ended []string
	for _, ns := range f.Namespaces {
		list, err := f.Dyn.Resource(releasesGVR).Namespace(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return 0, err
		}
		for _, u := range list.Items {
			phase, _, _ := unstructured.NestedString(u.Object, "status", "phase")
			active, _, _ := unstructured.NestedString(u.Object, "status", "activeImage")
			switch {
			case phase == "Idle" && active == image:
				n++
			case phase == "Failed" || phase == "RolledBack":
				ended = append(ended, ns+"/"+u.GetName()+" "+phase)
			}
		}
	}
	if len(ended) > 0 {
		return n, fmt.Errorf("%w: %s", errEnded, strings.Join(ended[:min(len(ended), 10)], ", "))
	}
	return n, nil
}

// errEnded means releases ended without switching: waiting longer would
// not help.
var errEnded = errors.New("releases ended without switching")

// WaitSettled waits until every release is Idle on image.
func (f *Fleet) WaitSettled(ctx context.Context, image string) error {
	last := 0
	err := poll(ctx, func(ctx context.Context) (bool, error) {
		n, err := f.Settled(ctx, image)
		if errors.Is(err, errEnded) {
			return false, err
		}
		if err != nil {
			return false, nil
		}
		last = n
		return n == len(f.Apps), nil
	})
	if err != nil {
		return fmt.Errorf("%d of %d releases idle on %s: %w", last, len(f.Apps), image, err)
	}
	return nil
}

// poll checks cond every second, not to load the API server it measures.
func poll(ctx context.Context, cond wait.ConditionWithContextFunc) error {
	return wait.PollUntilContextCancel(ctx, time.Second, true, cond)
}

// Runs returns every app's runs, newest first.
func (f *Fleet) Runs(ctx context.Context) (map[App][]*journal.Run, error) {
	out := map[App][]*journal.Run{}
	for _, ns := range f.Namespaces {
		st, err := runstore.Open(ctx, f.Kube, f.Dyn, ns)
		if err != nil {
			return nil, err
		}
		runs, err := st.List(ctx, journal.Filter{})
		if err != nil {
			return nil, err
		}
		for _, r := range runs {
			a := App{Namespace: ns, Name: r.App}
			out[a] = append(out[a], r)
		}
	}
	return out, nil
}

// Controller is a `bluegreen controller` process over the fleet.
type Controller struct {
	cmd     *exec.Cmd
	Metrics string
	logs    *os.File
	done    chan error
}

// StartController starts bin as a controller of every namespace, against
// kubeconfig, with more arguments args, its log in dir.
func StartController(bin, kubeconfig, dir string, port int, args ...string) (*Controller, error) {
	logs, err := os.Create(filepath.Join(dir, "controller.log"))
	if err != nil {
		return nil, err
	}
	c := &Controller{Metrics: fmt.Sprintf("127.0.0.1:%d", port), logs: logs, done: make(chan error, 1)}
	c.cmd = exec.Command(bin, append([]string{"controller", "--kubeconfig", kubeconfig, "--metrics-bind-address", c.Metrics, "--health-probe-bind-address", "0"}, args...)...)
	c.cmd.Env = append(os.Environ(), "HOME="+dir)
	c.cmd.Stdout, c.cmd.Stderr = logs, logs
	if err := c.cmd.Start(); err != nil {
		return nil, err
	}
	go func() { c.done <- c.cmd.Wait() }()
	return c, nil
}

// Stop ends the controller (SIGTERM, then SIGKILL after a minute) and
// returns how it exited.
func (c *Controller) Stop() error {
	_ = c.cmd.Process.Signal(os.Interrupt)
	var err error
	select {
	case err = <-c.done:
	case <-time.After(time.Minute):
		_ = c.cmd.Process.Kill()
		err = <-c.done
	}
	_ = c.logs.Close()
	return err
}

// Log returns the last n lines of the controller's log.
func (c *Controller) Log(n int) string {
	data, err := os.ReadFile(c.logs.Name())
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// Requests is the number of API requests the controller made so far
// (client-go's rest_client_requests_total, every code and method).
func (c *Controller) Requests(ctx context.Context) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+c.Metrics+"/metrics", nil)
	if err != nil {
		return 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	total := 0.0
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "rest_client_requests_total{") {
			continue
		}
		v, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
		if err != nil {
			return 0, err
		}
		total += v
	}
	return int(total), sc.Err()
}

// Proc is what /proc says of the controller: resident memory now and at
// its peak, and CPU time used.
type Proc struct {
	RSS, PeakRSS int64 // bytes
	CPU          time.Duration
}

// Proc reads /proc/PID/status and /proc/PID/stat (Linux).
func (c *Controller) Proc() (Proc, error) {
	var p Proc
	pid := c.cmd.Process.Pid
	st, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return p, err
	}
	for _, line := range strings.Split(string(st), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		kb, _ := strconv.ParseInt(f[1], 10, 64)
		switch f[0] {
		case "VmRSS:":
			p.RSS = kb << 10
		case "VmHWM:":
			p.PeakRSS = kb << 10
		}
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return p, err
	}
	// Fields after the command (which may hold spaces) in parentheses:
	// utime and stime are the 14th and 15th of the line.
	rest := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+2:]))
	if len(rest) < 13 {
		return p, errors.New("short /proc stat")
	}
	ut, _ := strconv.ParseInt(rest[11], 10, 64)
	stt, _ := strconv.ParseInt(rest[12], 10, 64)
	p.CPU = time.Duration(ut+stt) * time.Second / 100 // USER_HZ
	return p, nil
}

// Quiet waits until the controller's request count stops moving for
// quiet (it is idle), and returns the count.
func (c *Controller) Quiet(ctx context.Context, quiet time.Duration) (int, error) {
	last, since := -1, time.Now()
	for {
		n, err := c.Requests(ctx)
		if err == nil && n != last {
			last, since = n, time.Now()
		}
		if err == nil && time.Since(since) >= quiet {
			return n, nil
		}
		select {
		case <-ctx.Done():
			return last, ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

// Latencies are per release, from its run record and the time its image
// was set.
type Latencies struct {
	// Declared is from the image set to the switch done.
	Declared []time.Duration
	// PreviewReady is from the new color's rollout done (the preview
	// ready) to the switch done.
	PreviewReady []time.Duration
	// First and Last are the first image set and the last switch done.
	First, Last time.Time
}

// Measure reads each app's one run for image and its step times; an app
// without exactly one succeeded run of image is an error naming it.
func Measure(runs map[App][]*journal.Run, set map[App]time.Time, image string) (Latencies, error) {
	var l Latencies
	var bad []string
	for a, at := range set {
		var mine []*journal.Run
		for _, r := range runs[a] {
			if strings.Contains(string(r.Spec), image) {
				mine = append(mine, r)
			}
		}
		if len(mine) != 1 || mine[0].State != journal.Succeeded {
			states := []string{}
			for _, r := range mine {
				states = append(states, string(r.State))
			}
			bad = append(bad, fmt.Sprintf("%s/%s: %d runs of %s %v", a.Namespace, a.Name, len(mine), image, states))
			continue
		}
		sw, ro := mine[0].Step("switch"), mine[0].Step("wait-rollout")
		if sw == nil || ro == nil || sw.FinishedAt.IsZero() {
			bad = append(bad, fmt.Sprintf("%s/%s: run %s has no finished switch", a.Namespace, a.Name, mine[0].ID))
			continue
		}
		l.Declared = append(l.Declared, sw.FinishedAt.Sub(at))
		l.PreviewReady = append(l.PreviewReady, sw.FinishedAt.Sub(ro.FinishedAt))
		if l.First.IsZero() || at.Before(l.First) {
			l.First = at
		}
		if sw.FinishedAt.After(l.Last) {
			l.Last = sw.FinishedAt
		}
	}
	if len(bad) > 0 {
		slices.Sort(bad)
		return l, fmt.Errorf("%d of %d releases did not switch once: %s", len(bad), len(set), strings.Join(bad[:min(len(bad), 10)], "; "))
	}
	return l, nil
}

// Percentile is the nearest-rank p-th percentile (0 < p ≤ 1) of d.
func Percentile(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	i := int(float64(len(s))*p+0.999999) - 1
	return s[min(max(i, 0), len(s)-1)]
}
