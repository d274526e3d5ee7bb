package bench

import (
	"context"
	"encoding/json"
	"fmt"
	awsv2 "github.com/aws/aws-sdk-go-v2/aws"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"k8s.io/client-go/util/flowcontrol"

	"github.com/bluegreen/bluegreen/internal/awscluster"
	"github.com/bluegreen/bluegreen/internal/clock"
	"github.com/bluegreen/bluegreen/internal/engine"
	"github.com/bluegreen/bluegreen/internal/journal"
	"github.com/bluegreen/bluegreen/internal/kube"
	"github.com/bluegreen/bluegreen/internal/migrate"
	"github.com/bluegreen/bluegreen/internal/plan"
	"github.com/bluegreen/bluegreen/internal/standby"
	"github.com/bluegreen/bluegreen/test/migrationbed"
	"github.com/bluegreen/bluegreen/test/testbed"
)

// handoffSettleTimeout bounds the wait, after a rollback, until every
// StatefulSet runs in A again on its volume.
const handoffSettleTimeout = 5 * time.Minute

// delays are the simulated waits of the EBS hand-off: the EBS CSI driver
// simulator's attach and detach (kubelet unmount plus ControllerUnpublish),
// and how long EC2 keeps a detaching volume in-use.
type delays struct {
	attach, detach, ec2Detach, snapshot time.Duration
}

func (d delays) String() string {
	return fmt.Sprintf("attach %s, detach %s, EC2 detach %s, snapshot %s", d.attach, d.detach, d.ec2Detach, d.snapshot)
}

// handoffWorld is one migration world (two clusters, the AWS fake, the
// simulators) and the tool's side of it, built as `bluegreen migrate`
// builds it, with every API call metered.
type handoffWorld struct {
	w    *migrationbed.World
	diag handoffDiag
	// qps and burst are the kube clients' rate limit, per cluster.
	qps    float64
	burst  int
	env    migrate.Env
	reg    *meters
	store  *timedStore
	aNodes map[string]bool // instance IDs of A's nodes
}

func startHandoffWorld(ctx context.Context, b *testing.B, d delays, diag handoffDiag) *handoffWorld {
	b.Helper()
	dir := b.TempDir()
	sctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	w, err := migrationbed.Start(sctx, migrationbed.Options{
		AttachDelay: d.attach, DetachDelay: d.detach, EC2DetachDelay: d.ec2Detach, SnapshotDelay: d.snapshot,
		// Each StatefulSet has a headless Service, and the shop a web
		// Service per size: a /16 leaves room to raise the sizes.
		ServiceCIDR: "10.96.0.0/16",
		WorkDir:     dir,
		Logger:      slog.New(slog.NewTextHandler(b.Output(), &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	if err != nil {
		b.Fatalf("start migration world: %v", err)
	}
	b.Cleanup(func() { w.Stop(context.WithoutCancel(ctx)) })
	st, err := journal.OpenBolt(filepath.Join(dir, "journal.db"))
	if err != nil {
		b.Fatal(err)
	}
	hw := &handoffWorld{w: w, diag: diag, reg: newMeters(), store: &timedStore{Bolt: st, encodeOnly: diag.noJournalFile}, aNodes: map[string]bool{}}
	hw.env = hw.buildEnv(b, dir)
	nodes, err := w.A.Client.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		b.Fatal(err)
	}
	for _, n := range nodes.Items {
		id := n.Spec.ProviderID
		hw.aNodes[id[strings.LastIndex(id, "/")+1:]] = true
	}
	return hw
}

// buildEnv does what the CLI's buildEnv does, without a router (the
// benchmark runs no DNS shift) and without checks: kube.Connect's clients
// with the CLI's rate limit (migrate.ClientQPS), standby clients, and AWS
// clients on the fake.
func (hw *handoffWorld) buildEnv(b *testing.B, dir string) migrate.Env {
	b.Helper()
	src, srcKube := hw.connect(b, inlineKubeconfig(b, hw.w.A.Kubeconfig, filepath.Join(dir, "a.kubeconfig")), hw.w.ContextA, serverA)
	dst, dstKube := hw.connect(b, inlineKubeconfig(b, hw.w.B.Kubeconfig, filepath.Join(dir, "b.kubeconfig")), hw.w.ContextB, serverB)
	srcObj, err := standby.NewCluster(src.Config)
	if err != nil {
		b.Fatal(err)
	}
	dstObj, err := standby.NewCluster(dst.Config)
	if err != nil {
		b.Fatal(err)
	}
	cfg := hw.w.AWS.AWSConfig()
	cfg.HTTPClient = countingHTTP{inner: awshttp.NewBuildableClient(), reg: hw.reg}
	return migrate.Env{
		Source: srcKube, Target: dstKube, SourceObjects: srcObj, TargetObjects: dstObj,
		SourceName: src.Context, TargetName: dst.Context, AWS: awscluster.FromConfig(cfg),
		Log: slog.New(slog.DiscardHandler), Clock: clock.Real{},
	}
}

// inlineKubeconfig writes a copy of a kubeconfig with the certificates and
// keys inlined. client-go reloads certificate files in a goroutine that
// outlives the clients; with the files gone at the end of a pass, it would
// log errors for the rest of the benchmark. The CLI is a process that
// exits, so it never sees that.
func inlineKubeconfig(b *testing.B, from, to string) string {
	b.Helper()
	cfg, err := clientcmd.LoadFromFile(from)
	if err != nil {
		b.Fatal(err)
	}
	if err := clientcmdapi.FlattenConfig(cfg); err != nil {
		b.Fatal(err)
	}
	if err := clientcmd.WriteToFile(*cfg, to); err != nil {
		b.Fatal(err)
	}
	return to
}

// connect builds a clientset as the CLI does, then the same clientset
// again with its rate limiter timed and its transport counted.
func (hw *handoffWorld) connect(b *testing.B, kubeconfig, context string, server apiServer) (*kube.Clients, kubernetes.Interface) {
	b.Helper()
	// The CLI's rate limit for the largest size's parallelism (the limit
	// only binds at that size).
	qps := migrate.ClientQPS(handoffSizes[len(handoffSizes)-1].n)
	c, err := kube.Connect(kube.ClientOptions{Kubeconfig: kubeconfig, Context: context, Namespace: "default", QPS: qps, Burst: 2 * int(qps)})
	if err != nil {
		b.Fatal(err)
	}
	cfg := rest.CopyConfig(c.Config)
	if hw.diag.qps > 0 {
		cfg.QPS, cfg.Burst = hw.diag.qps, 2*int(hw.diag.qps)
	}
	hw.qps, hw.burst = float64(cfg.QPS), cfg.Burst
	cfg.RateLimiter = timedLimiter{flowcontrol.NewTokenBucketRateLimiter(cfg.QPS, cfg.Burst)}
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper {
		return countingTransport{rt: rt, server: server, reg: hw.reg}
	})
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		b.Fatal(err)
	}
	return c, cs
}

// handoffDiag are settings for diagnosis only, read from the environment;
// the recorded results use none of them.
type handoffDiag struct {
	// qps replaces the CLI's client QPS (Burst becomes twice it):
	// BENCH_HANDOFF_QPS.
	qps float32
	// noJournalFile encodes every journal write but leaves out the bbolt
	// file and its fsync: BENCH_HANDOFF_JOURNAL=encode-only.
	noJournalFile bool
	// cliEvents records a Kubernetes Event per finished or undone step on
	// the lane's StatefulSet in A, through A's client, as the CLI's
	// observer does: BENCH_HANDOFF_EVENTS=cli.
	cliEvents bool
}

func readHandoffDiag(b *testing.B) handoffDiag {
	b.Helper()
	var d handoffDiag
	if v := os.Getenv("BENCH_HANDOFF_QPS"); v != "" {
		q, err := strconv.ParseFloat(v, 32)
		if err != nil || q < 1 {
			b.Fatalf("BENCH_HANDOFF_QPS=%q: want the client QPS, e.g. 500", v)
		}
		d.qps = float32(q)
	}
	switch v := os.Getenv("BENCH_HANDOFF_JOURNAL"); v {
	case "":
	case "encode-only":
		d.noJournalFile = true
	default:
		b.Fatalf("BENCH_HANDOFF_JOURNAL=%q: want encode-only or nothing", v)
	}
	switch v := os.Getenv("BENCH_HANDOFF_EVENTS"); v {
	case "":
	case "cli":
		d.cliEvents = true
	default:
		b.Fatalf("BENCH_HANDOFF_EVENTS=%q: want cli or nothing", v)
	}
	return d
}

// setup says how the tool's side was set up, for the report.
func (hw *handoffWorld) setup() string {
	kube := fmt.Sprintf("the CLI's kube clients (kube.Connect: QPS %.0f, Burst %d per cluster)", hw.qps, hw.burst)
	if hw.diag.qps > 0 {
		kube = fmt.Sprintf("kube clients at QPS %.0f, Burst %d per cluster (a diagnosis setting, not the CLI's)", hw.qps, hw.burst)
	}
	store := "a bbolt journal file"
	if hw.diag.noJournalFile {
		store = "journal writes encoded but not written (a diagnosis setting, not the CLI's)"
	}
	events := "no engine observer (the CLI's live view, audit log and Kubernetes Events are left out)"
	if hw.diag.cliEvents {
		events = "a Kubernetes Event per finished step on A, as the CLI's observer records them (a diagnosis setting)"
	}
	return kube + "; " + store + "; " + events
}

// handoffRun is what one hand-off of a shop cost, forward and back.
type handoffRun struct {
	n         int
	plan      time.Duration // Observe and MigrationPlan
	planCost  meterSnap
	wall      time.Duration // engine.Run of the hand-off block
	rollback  time.Duration // engine.Rollback of it
	run       *journal.Run
	steps     map[string]meterSnap // by step name
	undos     map[string]meterSnap // by step name, for steps with an undo
	saves     sample               // journal writes of the forward run
	undoSaves sample               // and of the rollback
	runBytes  int                  // size of the run as journaled at the end
	stray     int64
	// events are the CLI's Kubernetes Events of the forward run, and
	// eventDrain the wait after it until the last one was written.
	events     meterSnap
	eventDrain time.Duration
	// cpu is the CPU time each test-bed component used during the forward
	// run (engine.Run), from /proc.
	cpu map[string]time.Duration
}

// meterSnap is a meter's values once the step is over.
type meterSnap struct {
	kubeA, kubeB, aws           int64
	roundTrip, throttle, action time.Duration
}

func snap(m *meter) meterSnap {
	return meterSnap{kubeA: m.kubeA.Load(), kubeB: m.kubeB.Load(), aws: m.aws.Load(),
		roundTrip: time.Duration(m.roundTrip.Load()), throttle: time.Duration(m.throttle.Load()), action: time.Duration(m.action.Load())}
}

// handoff plans the migration of shop, runs only its hand-off lanes, then
// rolls them back and waits until the shop runs in A again, as before.
func (hw *handoffWorld) handoff(ctx context.Context, b *testing.B, shop migrationbed.Shop) handoffRun {
	b.Helper()
	n := len(shop.StatefulSets)
	res := handoffRun{n: n}
	hw.reg.reset()
	hw.store.take()
	m := hw.w.Spec(shop, migrationbed.SpecOptions{Name: fmt.Sprintf("handoff-%d", n), NoStandby: true, Steps: []int{100}, Parallelism: n})
	m.Defaults()
	pm := &meter{}
	t0 := time.Now()
	obs, err := migrate.Observe(withMeter(ctx, pm), hw.env, m)
	if err != nil {
		b.Fatalf("observe: %v", err)
	}
	steps, err := plan.MigrationPlan(obs, m)
	if err != nil {
		b.Fatalf("plan: %v", err)
	}
	res.plan, res.planCost = time.Since(t0), snap(pm)
	r := newHandoffRun(hw.env, m, laneSteps(steps))
	e := &engine.Engine{Store: hw.store, Actions: metered(migrate.Actions(hw.env), hw.reg), Clock: clock.Real{},
		Log: slog.New(slog.DiscardHandler), Parallelism: m.Handoff.Parallelism}

	em := &meter{}
	closeEvents := func() {}
	if hw.diag.cliEvents {
		e.Observe, closeEvents = hw.cliEvents(ctx, em)
	}
	cpu0 := takeCPU()
	t0 = time.Now()
	err = e.Run(ctx, r)
	res.wall = time.Since(t0)
	res.cpu = cpuSince(cpu0)
	t0 = time.Now()
	closeEvents()
	res.eventDrain, res.events = time.Since(t0), snap(em)
	if err != nil {
		b.Fatalf("hand-off of %d StatefulSets: %v", n, err)
	}
	res.run = r
	res.saves = hw.store.take()
	res.steps = map[string]meterSnap{}
	for name, m := range hw.reg.do {
		res.steps[name] = snap(m)
	}
	if data, err := json.Marshal(r); err == nil {
		res.runBytes = len(data)
	}

	if hw.diag.cliEvents {
		e.Observe, closeEvents = hw.cliEvents(ctx, &meter{})
	}
	t0 = time.Now()
	err = e.Rollback(ctx, r, "benchmark: hand the volumes back to A for the next run")
	res.rollback = time.Since(t0)
	closeEvents()
	if err != nil {
		b.Fatalf("roll back the hand-off of %d StatefulSets: %v\nnot Ready in A:\n%s", n, err, hw.explain(ctx, shop))
	}
	res.undos = map[string]meterSnap{}
	for name, m := range hw.reg.undo {
		res.undos[name] = snap(m)
	}
	res.undoSaves = hw.store.take()
	res.stray = hw.reg.stray.Load()
	hw.settle(ctx, b, shop)
	return res
}

// cliEvents is the CLI's Kubernetes Event recording at cluster scope
// (internal/cli's kubeEvents and eventObjects): one Event per finished,
// undone or failed step on the lane's StatefulSet in A, written in the
// background through A's client. The engine calls the observer under the
// lock its lanes share, so a full queue holds every lane, as in the CLI.
// The returned func waits until every Event is written.
func (hw *handoffWorld) cliEvents(ctx context.Context, m *meter) (func(engine.Event), func()) {
	reasons := map[engine.EventKind]string{engine.StepDone: "BlueGreenStep", engine.StepUndone: "BlueGreenUndo", engine.StepFailed: "BlueGreenStepFailed"}
	queue := make(chan func(), 256)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for record := range queue {
			record()
		}
	}()
	ectx := withMeter(context.WithoutCancel(ctx), m)
	return func(ev engine.Event) {
			reason, ok := reasons[ev.Kind]
			if !ok || ev.Step == nil {
				return
			}
			ns, name, ok := strings.Cut(ev.Step.Lane, "/")
			if !ok {
				return
			}
			typ, msg := "Normal", fmt.Sprintf("run %s step %s: %s", ev.Run.ID, ev.Step.Name, ev.Step.Description)
			if ev.Err != nil {
				typ = "Warning"
			}
			queue <- func() {
				_ = kube.Event(ectx, hw.env.Source, ns, "statefulset/"+name, reason, msg, typ)
			}
		}, func() {
			close(queue)
			<-done
		}
}

// laneSteps keeps the hand-off lanes of a migration plan: the DNS shift and
// the checklist after them are not part of the hand-off.
func laneSteps(steps []journal.Step) []journal.Step {
	var out []journal.Step
	for _, s := range steps {
		if s.Lane != "" {
			out = append(out, s)
		}
	}
	return out
}

// newHandoffRun is the run as `bluegreen migrate apply` journals it.
func newHandoffRun(env migrate.Env, m plan.Migration, steps []journal.Step) *journal.Run {
	spec, _ := json.Marshal(m)
	now := time.Now().UTC()
	return &journal.Run{
		ID: journal.NewID(now), Scope: journal.ScopeCluster, Operation: "migrate", Context: env.SourceName,
		App: m.Name, Spec: spec, State: journal.Running, Approved: true,
		Steps: steps, CreatedAt: now, UpdatedAt: now,
	}
}

// settle waits until every StatefulSet of shop is Ready in A with EC2
// showing its volume attached to a node of A, and nothing of it is left in
// B: the state the shop was installed in.
func (hw *handoffWorld) settle(ctx context.Context, b *testing.B, shop migrationbed.Shop) {
	b.Helper()
	ctx, cancel := context.WithTimeout(ctx, handoffSettleTimeout)
	defer cancel()
	a, bc := hw.w.A.Client, hw.w.B.Client
	vols := make([]string, 0, len(shop.StatefulSets))
	for _, db := range shop.StatefulSets {
		vols = append(vols, db.VolumeID)
	}
	var why string
	err := testbed.WaitFor(ctx, func(ctx context.Context) (bool, error) {
		inA, err := a.AppsV1().StatefulSets(shop.Namespace).List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, nil
		}
		ready := 0
		for _, s := range inA.Items {
			if s.Status.ReadyReplicas == 1 {
				ready++
			}
		}
		inB, err := bc.AppsV1().StatefulSets(shop.Namespace).List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, nil
		}
		pvs, err := bc.CoreV1().PersistentVolumes().List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, nil
		}
		out, err := hw.w.EC2.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{VolumeIds: vols})
		if err != nil {
			return false, nil
		}
		onA := 0
		for _, v := range out.Volumes {
			for _, at := range v.Attachments {
				if at.State == "attached" && at.InstanceId != nil && hw.aNodes[*at.InstanceId] {
					onA++
				}
			}
		}
		why = fmt.Sprintf("%d of %d Ready in A, %d in B, %d PVs in B, %d volumes attached in A", ready, len(vols), len(inB.Items), len(pvs.Items), onA)
		return ready == len(vols) && len(inB.Items) == 0 && len(pvs.Items) == 0 && onA == len(vols), nil
	})
	if err != nil {
		b.Fatalf("shop %s did not settle back in A after the rollback: %v (%s)\nnot Ready in A:\n%s", shop.Namespace, err, why, hw.explain(ctx, shop))
	}
}

// explain describes, for every StatefulSet of shop not Ready in A, where
// its pod, claim, PV and volume are: what a failed run or rollback leaves
// to look at.
func (hw *handoffWorld) explain(ctx context.Context, shop migrationbed.Shop) string {
	ctx = context.WithoutCancel(ctx)
	var out []string
	for _, db := range shop.StatefulSets {
		s, err := hw.w.A.Client.AppsV1().StatefulSets(shop.Namespace).Get(ctx, db.Name, metav1.GetOptions{})
		if err == nil && s.Status.ReadyReplicas == 1 {
			continue
		}
		line := db.Name + ":"
		for name, c := range map[string]kubernetes.Interface{"A": hw.w.A.Client, "B": hw.w.B.Client} {
			pods, _ := c.CoreV1().Pods(shop.Namespace).List(ctx, metav1.ListOptions{LabelSelector: "app=" + db.Name})
			if pods != nil {
				for _, p := range pods.Items {
					line += fmt.Sprintf(" pod %s in %s %s on %q (deleting %v);", p.Name, name, p.Status.Phase, p.Spec.NodeName, p.DeletionTimestamp != nil)
				}
			}
			if pvc, err := c.CoreV1().PersistentVolumeClaims(shop.Namespace).Get(ctx, db.PVC, metav1.GetOptions{}); err == nil {
				line += fmt.Sprintf(" claim in %s %s→%s;", name, pvc.Status.Phase, pvc.Spec.VolumeName)
			}
			if pv, err := c.CoreV1().PersistentVolumes().Get(ctx, db.PV, metav1.GetOptions{}); err == nil {
				ref := ""
				if pv.Spec.ClaimRef != nil {
					ref = string(pv.Spec.ClaimRef.UID)
				}
				line += fmt.Sprintf(" pv in %s %s ref %q;", name, pv.Status.Phase, ref)
			}
			if vas, err := c.StorageV1().VolumeAttachments().List(ctx, metav1.ListOptions{}); err == nil {
				for _, va := range vas.Items {
					if va.Spec.Source.PersistentVolumeName != nil && *va.Spec.Source.PersistentVolumeName == db.PV {
						line += fmt.Sprintf(" attachment in %s to %s attached=%v;", name, va.Spec.NodeName, va.Status.Attached)
					}
				}
			}
		}
		if v, err := hw.w.EC2.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{VolumeIds: []string{db.VolumeID}}); err == nil && len(v.Volumes) == 1 {
			line += fmt.Sprintf(" EC2 %s", v.Volumes[0].State)
			for _, at := range v.Volumes[0].Attachments {
				line += fmt.Sprintf(" %s to %s", at.State, awsv2.ToString(at.InstanceId))
			}
		}
		out = append(out, line)
	}
	return strings.Join(out, "\n")
}
