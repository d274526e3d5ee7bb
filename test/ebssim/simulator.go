package ebssim

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ec2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes"
)

// DefaultDriver is the CSI driver name the simulator answers for when
// Options.Driver is empty: the AWS EBS CSI driver's.
const DefaultDriver = "ebs.csi.aws.com"

// DefaultRetryInterval is how often a failed attach is retried when
// Options.RetryInterval is zero.
const DefaultRetryInterval = 200 * time.Millisecond

// EC2 is the part of the EC2 API the simulator calls; *ec2.Client
// implements it.
type EC2 interface {
	AttachVolume(ctx context.Context, in *ec2.AttachVolumeInput, opts ...func(*ec2.Options)) (*ec2.AttachVolumeOutput, error)
	DetachVolume(ctx context.Context, in *ec2.DetachVolumeInput, opts ...func(*ec2.Options)) (*ec2.DetachVolumeOutput, error)
	DescribeVolumes(ctx context.Context, in *ec2.DescribeVolumesInput, opts ...func(*ec2.Options)) (*ec2.DescribeVolumesOutput, error)
}

// The SDK's client is what the simulator is meant to call.
var _ EC2 = (*ec2.Client)(nil)

// Options configure a Simulator. Kube and EC2 are required.
type Options struct {
	// Kube is the cluster the simulator serves; run one Simulator per
	// cluster.
	Kube kubernetes.Interface
	// EC2 is where volumes are attached and detached.
	EC2 EC2
	// Driver is the CSI driver name of the PVs the simulator handles;
	// empty means DefaultDriver. In-tree awsElasticBlockStore PVs are
	// handled too when it is DefaultDriver, as CSI migration does.
	Driver string
	// AttachDelay is how long the simulator waits, after a pod using a
	// volume is scheduled, before it calls AttachVolume.
	AttachDelay time.Duration
	// DetachDelay is how long the simulator waits, after the last pod
	// using a volume on a node is gone, before it calls DetachVolume: the
	// kubelet's unmount plus ControllerUnpublish.
	DetachDelay time.Duration
	// RetryInterval is how often a failed attach is retried and a detach
	// is checked for completion; zero means DefaultRetryInterval.
	RetryInterval time.Duration
	// Logger receives the simulator's logs; nil discards them.
	Logger *slog.Logger
}

// Simulator plays the EBS CSI driver (controller plugin and external
// attacher) for one cluster and, on nodes Kubernetes' attach/detach
// controller does not manage, that controller's part too. Create it with
// New and start it with Run.
type Simulator struct {
	opts Options
	log  *slog.Logger

	w       *watches // set by Run before anything reads it
	devices deviceAllocator

	mu       sync.Mutex
	running  bool
	stopped  bool
	ctx      context.Context // Run's context, once the caches are synced
	workers  map[string]*volume
	pending  map[string]bool   // volumes kicked before the caches synced
	attached map[string]placed // volume ID -> where the simulator believes it is
	held     map[string]bool
	wg       sync.WaitGroup
}

// placed is where a volume is attached, as the simulator believes.
type placed struct {
	node, instance string
}

// New returns a Simulator for o, not yet running.
func New(o Options) *Simulator {
	if o.Driver == "" {
		o.Driver = DefaultDriver
	}
	if o.RetryInterval <= 0 {
		o.RetryInterval = DefaultRetryInterval
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Simulator{
		opts:     o,
		log:      o.Logger.With("driver", o.Driver),
		devices:  deviceAllocator{used: map[string]map[string]bool{}},
		workers:  map[string]*volume{},
		pending:  map[string]bool{},
		attached: map[string]placed{},
		held:     map[string]bool{},
	}
}

// Run watches Pods, PVCs, PVs, Nodes and VolumeAttachments of the cluster
// and attaches and detaches volumes until ctx is done. It then waits for
// its goroutines to stop, leaving every volume as it is (as a driver that
// stops does), and returns nil. It returns an error at once if the options
// lack Kube or EC2 or if Run was called before.
func (s *Simulator) Run(ctx context.Context) error {
	if s.opts.Kube == nil || s.opts.EC2 == nil {
		return errors.New("run ebs simulator: Options.Kube and Options.EC2 are required")
	}
	s.mu.Lock()
	if s.running {
		s.mu.Unlock()
		return errors.New("run ebs simulator: already running")
	}
	s.running = true
	s.mu.Unlock()

	s.w = s.newWatches()
	var stores sync.WaitGroup
	synced := s.w.run(ctx, &stores)
	defer stores.Wait()
	select {
	case <-synced:
	case <-ctx.Done():
		return nil
	}
	s.log.Info("ebs simulator running", "attach_delay", s.opts.AttachDelay, "detach_delay", s.opts.DetachDelay)
	s.logManagedNodes()

	s.mu.Lock()
	s.ctx = ctx
	for id := range s.pending {
		s.kickLocked(id)
	}
	clear(s.pending)
	s.mu.Unlock()
	for _, pv := range s.w.pvs.filter(func(*corev1.PersistentVolume) bool { return true }) {
		s.onPV(pv, false) // in case a kick was missed while the stores filled one by one
	}

	<-ctx.Done()
	s.mu.Lock()
	s.stopped = true // no worker starts after this, so Wait below sees them all
	s.mu.Unlock()
	s.wg.Wait()
	s.log.Info("ebs simulator stopped")
	return nil
}

// Attachments returns volume ID → instance ID of every volume the
// simulator believes attached, including volumes whose detach it has
// requested but not yet seen complete.
func (s *Simulator) Attachments() map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]string, len(s.attached))
	for id, p := range s.attached {
		out[id] = p.instance
	}
	return out
}

// Hold stops (hold true) or allows again (hold false) detaching volumeID,
// like a node whose kubelet never unmounts it; tests use it to provoke a
// Multi-Attach conflict. Releasing a hold lets a pending detach proceed.
func (s *Simulator) Hold(volumeID string, hold bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if hold {
		s.held[volumeID] = true
	} else {
		delete(s.held, volumeID)
	}
	s.kickLocked(volumeID)
}

// isHeld reports whether volumeID is held.
func (s *Simulator) isHeld(volumeID string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.held[volumeID]
}

// setPlaced records where volumeID is attached; an empty p forgets it.
func (s *Simulator) setPlaced(volumeID string, p placed) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p == (placed{}) {
		delete(s.attached, volumeID)
	} else {
		s.attached[volumeID] = p
	}
}

// volumesOnNode returns the volumes the simulator believes attached to node.
func (s *Simulator) volumesOnNode(node string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for id, p := range s.attached {
		if p.node == node {
			out = append(out, id)
		}
	}
	return out
}

// kick makes the worker of volumeID reconcile soon, starting it if needed.
func (s *Simulator) kick(volumeID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.kickLocked(volumeID)
}

func (s *Simulator) kickLocked(volumeID string) {
	if v, ok := s.workers[volumeID]; ok {
		select {
		case v.kick <- struct{}{}:
		default: // a kick is already pending
		}
		return
	}
	if s.ctx == nil {
		s.pending[volumeID] = true
		return
	}
	if s.stopped {
		return
	}
	v := newVolume(volumeID)
	s.workers[volumeID] = v
	ctx := s.ctx
	s.wg.Go(func() { s.work(ctx, v) })
}

// retire removes v's worker unless a kick arrived meanwhile, and reports
// whether it did.
func (s *Simulator) retire(v *volume) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(v.kick) > 0 {
		return false
	}
	delete(s.workers, v.id)
	return true
}

// work is the goroutine of one volume: it reconciles the volume whenever
// it is kicked or a delay it waits for has passed, so that the delays of
// different volumes run concurrently.
func (s *Simulator) work(ctx context.Context, v *volume) {
	for {
		next, done := s.reconcile(ctx, v)
		if done && s.retire(v) {
			return
		}
		var timeout <-chan time.Time
		var timer *time.Timer
		if next > 0 {
			timer = time.NewTimer(next)
			timeout = timer.C
		}
		select {
		case <-ctx.Done():
		case <-v.kick:
		case <-timeout:
		}
		if timer != nil {
			timer.Stop()
		}
		if ctx.Err() != nil {
			return
		}
	}
}
