package e2e

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/tools/cache"
	watchtools "k8s.io/client-go/tools/watch"
	"k8s.io/utils/ptr"

	"github.com/bluegreen/bluegreen/internal/journal"
)

// Two controllers, one leading. The leader is SIGKILLed at a step boundary
// of a release (before, inside and after the switch, and at the
// scale-down); the other takes the leader Lease and carries the same run
// on from its record: every step the dead leader had finished keeps its
// record (none ran twice), the step it was in runs again (each is
// idempotent), every later step runs, and the run ends as an
// uninterrupted one does. Production never had zero ready endpoints.
func TestControllerLeaderKilledMidReleaseIsTakenOver(t *testing.T) {
	t.Parallel()
	const spec = `{"spec":{"image":"` + v2 + `","scaleDownDelay":"1s","keepWarm":0}}`

	// The steps an uninterrupted release ends with, to hold each taken-over
	// one to.
	ref := newHAEnv(t)
	ctl := ref.start(nil)
	ref.release(spec)
	want := ref.finished()
	ctl.stop()
	if len(want) < 5 {
		t.Fatalf("the uninterrupted run has %d steps: %v", len(want), want)
	}

	for _, at := range []string{"set-image/acted", "wait-rollout/started", "switch/acted", "switch/done", "scale-down-old/started"} {
		t.Run(at, func(t *testing.T) {
			t.Parallel()
			h := newHAEnv(t)
			leader := h.start([]string{"BLUEGREEN_TEST_CRASH_AT=" + at})
			h.eventually("the first controller leads and has seen the release", func() bool {
				return h.leaderHeld() && releaseStatus(t, h.releases, "shop")["phase"] == "Idle"
			})
			h.start(nil)
			endpoints := h.watchReadyEndpoints("shop")

			h.release(spec)
			select {
			case <-leader.done:
			case <-time.After(3 * time.Minute):
				// Not a timing assertion: a leader still alive here never
				// reached the boundary (a renamed step), and the test
				// would otherwise wait for the suite's timeout.
				t.Fatalf("the leader was never killed at %s: no run reached that step boundary", at)
			}
			if leader.err == nil || !strings.Contains(leader.err.Error(), "killed") {
				t.Fatalf("the leader exited with %v, want killed at %s", leader.err, at)
			}
			atKill := h.lastRun()

			got := h.finished()
			final := h.lastRun()
			if final.ID != atKill.ID {
				t.Fatalf("the new leader ran %s instead of carrying on run %s", final.ID, atKill.ID)
			}
			if !stepsEqual(got, want) {
				t.Fatalf("after the take-over the steps ended %v; an uninterrupted run ends %v", got, want)
			}
			for _, s := range atKill.Steps {
				f := final.Step(s.Name)
				if s.State == journal.Done && (!f.StartedAt.Equal(s.StartedAt) || !f.FinishedAt.Equal(s.FinishedAt) || f.Attempts != s.Attempts) {
					t.Errorf("step %s, done before the kill, ran again: %s–%s (attempt %d), then %s–%s (attempt %d)",
						s.Name, s.StartedAt, s.FinishedAt, s.Attempts, f.StartedAt, f.FinishedAt, f.Attempts)
				}
			}
			low, seen := endpoints()
			if low == 0 || seen == 0 {
				t.Fatalf("production's ready endpoints fell to %d (over %d changes seen)", low, seen)
			}
			var doneAtKill []string
			for _, s := range atKill.Steps {
				if s.State == journal.Done {
					doneAtKill = append(doneAtKill, s.Name)
				}
			}
			t.Logf("killed at %s with %v done; taken over; at least %d ready endpoints through %d changes", at, doneAtKill, low, seen)
		})
	}
}

// haEnv is one app with a BlueGreenRelease, and the controllers that
// compete for its namespace's leader Lease.
type haEnv struct {
	*env
	releases dynamic.ResourceInterface
}

func newHAEnv(t *testing.T) *haEnv {
	t.Helper()
	e := newEnv(t)
	e.givenBlueGreenApp("shop", v1, 2)
	h := &haEnv{env: e, releases: givenReleaseCRDs(t, e.ns)}
	createRelease(t, h.releases, "shop", v1)
	return h
}

// start starts a leader-elected controller for the namespace, with a
// short leader Lease.
func (h *haEnv) start(extraEnv []string) *controllerProc {
	h.t.Helper()
	return startControllerEnv(h.t, extraEnv, "-n", h.ns, "--watch-namespace", h.ns, "--leader-elect", "--lease-namespace", h.ns,
		"--leader-elect-lease-duration", "4s", "--leader-elect-renew-deadline", "3s", "--leader-elect-retry-period", "500ms")
}

func (h *haEnv) leaderHeld() bool {
	l, err := h.kube.CoordinationV1().Leases(h.ns).Get(context.Background(), "bluegreen-controller", metav1.GetOptions{})
	return err == nil && ptr.Deref(l.Spec.HolderIdentity, "") != ""
}

func (h *haEnv) release(patch string) {
	h.t.Helper()
	if _, err := h.releases.Patch(context.Background(), "shop", types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
		h.t.Fatal(err)
	}
}

// finished waits until production runs v2 with blue scaled down and the
// release idle, and returns each step's end state.
func (h *haEnv) finished() map[string]journal.StepState {
	h.t.Helper()
	h.eventually("production on "+v2+", blue scaled down, the release idle", func() bool {
		s := h.state("shop")
		st := releaseStatus(h.t, h.releases, "shop")
		return s.ActiveSelects == "green" && s.GreenImage == v2 && s.BlueReplicas == 0 && st["phase"] == "Idle" && st["lastRun"] == "succeeded"
	})
	out := map[string]journal.StepState{}
	for _, s := range h.lastRun().Steps {
		out[s.Name] = s.State
	}
	return out
}

// lastRun is the app's newest run record.
func (h *haEnv) lastRun() *journal.Run {
	h.t.Helper()
	runs, err := h.runs().List(context.Background(), journal.Filter{App: "shop"})
	if err != nil || len(runs) == 0 {
		h.t.Fatalf("runs of shop: %v (%d)", err, len(runs))
	}
	if len(runs) != 1 {
		h.t.Fatalf("%d runs of shop, want the one release's", len(runs))
	}
	return runs[0]
}

func stepsEqual(a, b map[string]journal.StepState) bool {
	return fmt.Sprint(a) == fmt.Sprint(b) // maps print sorted by key
}

// watchReadyEndpoints follows every change of svc's EndpointSlices (a
// watch, so no state between two looks is missed) and returns a func that
// stops and reports the fewest ready endpoints seen in all of them
// together, and how many changes it saw.
func (e *env) watchReadyEndpoints(svc string) func() (low, seen int) {
	e.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	slices := e.kube.DiscoveryV1().EndpointSlices(e.ns)
	sel := metav1.ListOptions{LabelSelector: discoveryv1.LabelServiceName + "=" + svc}
	list, err := slices.List(ctx, sel)
	if err != nil {
		cancel()
		e.t.Fatal(err)
	}
	ready := map[string]int{}
	count := func(s *discoveryv1.EndpointSlice) int {
		n := 0
		for _, ep := range s.Endpoints {
			if ptr.Deref(ep.Conditions.Ready, false) {
				n++
			}
		}
		return n
	}
	total := func() int {
		n := 0
		for _, c := range ready {
			n += c
		}
		return n
	}
	for i := range list.Items {
		ready[list.Items[i].Name] = count(&list.Items[i])
	}
	var mu sync.Mutex
	low, seen := total(), 0
	w, err := watchtools.NewRetryWatcherWithContext(ctx, list.ResourceVersion, &cache.ListWatch{
		WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
			o.LabelSelector = sel.LabelSelector
			return slices.Watch(ctx, o)
		},
	})
	if err != nil {
		cancel()
		e.t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ev := range w.ResultChan() {
			s, ok := ev.Object.(*discoveryv1.EndpointSlice)
			if !ok {
				continue
			}
			mu.Lock()
			if ev.Type == watch.Deleted {
				delete(ready, s.Name)
			} else {
				ready[s.Name] = count(s)
			}
			low, seen = min(low, total()), seen+1
			mu.Unlock()
		}
	}()
	var once sync.Once
	stop := func() (int, int) {
		once.Do(func() {
			cancel()
			w.Stop()
			<-done
		})
		mu.Lock()
		defer mu.Unlock()
		return low, seen
	}
	e.t.Cleanup(func() { stop() })
	return stop
}
