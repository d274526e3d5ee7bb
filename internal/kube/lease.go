package kube

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/user"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	coordv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"
)

// ErrLocked is returned when another run holds the environment's lease.
var ErrLocked = errors.New("environment is locked by another run")

// AbortAnnotation on a lease asks the run holding it to abort.
const AbortAnnotation = "bluegreen.io/abort-requested"

// Holder identifies who holds a lease: "user@host pid=123 run=ID".
type Holder struct {
	User, Host string
	PID        int
	Run        string
}

// String is the lease's holderIdentity.
func (h Holder) String() string {
	return fmt.Sprintf("%s@%s pid=%d run=%s", h.User, h.Host, h.PID, h.Run)
}

// ParseHolder reads a holderIdentity written by Holder.String.
func ParseHolder(s string) Holder {
	var h Holder
	fields := strings.Fields(s)
	if len(fields) > 0 {
		h.User, h.Host, _ = strings.Cut(fields[0], "@")
	}
	for _, f := range fields[1:] {
		k, v, _ := strings.Cut(f, "=")
		switch k {
		case "pid":
			h.PID, _ = strconv.Atoi(v)
		case "run":
			h.Run = v
		}
	}
	return h
}

// Self is the holder for the current process and run.
func Self(run string) Holder {
	host, _ := os.Hostname()
	name := os.Getenv("USER")
	if name == "" {
		if u, err := user.Current(); err == nil {
			name = u.Username
		} else {
			name = "uid" + strconv.Itoa(os.Getuid())
		}
	}
	return Holder{User: name, Host: host, PID: os.Getpid(), Run: run}
}

// deadOnThisHost reports whether h is a process of this machine that no
// longer exists: its lease can be taken over at once instead of waiting for
// expiry, which is what a `resume` right after a crash needs.
func (h Holder) deadOnThisHost() bool {
	host, _ := os.Hostname()
	if h.Host != host || h.PID <= 0 {
		return false
	}
	err := syscall.Kill(h.PID, 0)
	return errors.Is(err, syscall.ESRCH)
}

// LeaseOptions configures a lock.
type LeaseOptions struct {
	Namespace, Name string
	Holder          Holder
	// Duration is how long the lease stays valid without renewal (default 30s).
	Duration time.Duration
	Log      *slog.Logger
}

// Lease is a held lock. It renews itself until Release.
type Lease struct {
	client  kubernetes.Interface
	opts    LeaseOptions
	cancel  context.CancelFunc
	done    chan struct{}
	abortMu sync.Once
	abort   chan struct{}
}

// Acquire takes the lease or returns an error wrapping ErrLocked that names
// the holder and when its claim expires. A lease that expired, or whose holder
// is a dead process on this machine, is taken over.
func Acquire(ctx context.Context, client kubernetes.Interface, o LeaseOptions) (*Lease, error) {
	if o.Duration == 0 {
		o.Duration = 30 * time.Second
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	leases := client.CoordinationV1().Leases(o.Namespace)
	now := metav1.NewMicroTime(time.Now())
	spec := coordv1.LeaseSpec{
		HolderIdentity:       ptr.To(o.Holder.String()),
		LeaseDurationSeconds: ptr.To(int32(o.Duration / time.Second)),
		AcquireTime:          &now,
		RenewTime:            &now,
	}
	cur, err := leases.Get(ctx, o.Name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		l := &coordv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: o.Name, Namespace: o.Namespace,
			Labels: map[string]string{"app.kubernetes.io/managed-by": "bluegreen"}}, Spec: spec}
		if _, err := leases.Create(ctx, l, metav1.CreateOptions{}); err != nil {
			if apierrors.IsAlreadyExists(err) {
				return Acquire(ctx, client, o)
			}
			return nil, fmt.Errorf("create lease %s/%s: %w", o.Namespace, o.Name, err)
		}
	case err != nil:
		return nil, fmt.Errorf("get lease %s/%s: %w", o.Namespace, o.Name, err)
	default:
		if err := claimable(cur, o.Holder); err != nil {
			return nil, fmt.Errorf("lease %s/%s: %w", o.Namespace, o.Name, err)
		}
		cur.Spec = spec
		delete(cur.Annotations, AbortAnnotation)
		if _, err := leases.Update(ctx, cur, metav1.UpdateOptions{}); err != nil {
			if apierrors.IsConflict(err) {
				return nil, fmt.Errorf("lease %s/%s was taken while acquiring it: %w", o.Namespace, o.Name, ErrLocked)
			}
			return nil, fmt.Errorf("take over lease %s/%s: %w", o.Namespace, o.Name, err)
		}
	}
	return start(client, o), nil
}

func claimable(l *coordv1.Lease, me Holder) error {
	holder := ptr.Deref(l.Spec.HolderIdentity, "")
	if holder == "" || holder == me.String() {
		return nil
	}
	h := ParseHolder(holder)
	if h.deadOnThisHost() {
		return nil
	}
	var expires time.Time
	if l.Spec.RenewTime != nil {
		expires = l.Spec.RenewTime.Add(time.Duration(ptr.Deref(l.Spec.LeaseDurationSeconds, 0)) * time.Second)
	}
	if !expires.IsZero() && time.Now().After(expires) {
		return nil
	}
	return fmt.Errorf("%w: held by %s until %s (wait for it to finish, or stop it with `bluegreen abort`)",
		ErrLocked, holder, expires.UTC().Format(time.RFC3339))
}

func start(client kubernetes.Interface, o LeaseOptions) *Lease {
	ctx, cancel := context.WithCancel(context.Background())
	l := &Lease{client: client, opts: o, cancel: cancel, done: make(chan struct{}), abort: make(chan struct{})}
	go l.renew(ctx)
	return l
}

// AbortRequested is closed when someone annotated the lease to ask the run to
// abort (see RequestAbort).
func (l *Lease) AbortRequested() <-chan struct{} { return l.abort }

func (l *Lease) renew(ctx context.Context) {
	defer close(l.done)
	t := time.NewTicker(l.opts.Duration / 6)
	defer t.Stop()
	leases := l.client.CoordinationV1().Leases(l.opts.Namespace)
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		cur, err := leases.Get(ctx, l.opts.Name, metav1.GetOptions{})
		if err != nil {
			l.opts.Log.Warn("renew lease", "lease", l.opts.Name, "error", err)
			continue
		}
		if _, ok := cur.Annotations[AbortAnnotation]; ok {
			l.abortMu.Do(func() { close(l.abort) })
		}
		if ptr.Deref(cur.Spec.HolderIdentity, "") != l.opts.Holder.String() {
			l.opts.Log.Error("lost lease", "lease", l.opts.Name, "holder", ptr.Deref(cur.Spec.HolderIdentity, ""))
			return
		}
		now := metav1.NewMicroTime(time.Now())
		cur.Spec.RenewTime = &now
		if _, err := leases.Update(ctx, cur, metav1.UpdateOptions{}); err != nil && ctx.Err() == nil {
			l.opts.Log.Warn("renew lease", "lease", l.opts.Name, "error", err)
		}
	}
}

// Release stops renewing and frees the lease for the next run.
func (l *Lease) Release(ctx context.Context) error {
	l.cancel()
	<-l.done
	leases := l.client.CoordinationV1().Leases(l.opts.Namespace)
	cur, err := leases.Get(ctx, l.opts.Name, metav1.GetOptions{})
	if err != nil {
		return fmt.Errorf("release lease %s/%s: %w", l.opts.Namespace, l.opts.Name, err)
	}
	if ptr.Deref(cur.Spec.HolderIdentity, "") != l.opts.Holder.String() {
		return nil
	}
	cur.Spec.HolderIdentity = nil
	cur.Spec.RenewTime = nil
	delete(cur.Annotations, AbortAnnotation)
	if _, err := leases.Update(ctx, cur, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("release lease %s/%s: %w", l.opts.Namespace, l.opts.Name, err)
	}
	return nil
}

// RequestAbort annotates the lease so that the run holding it aborts at its
// next renewal. It returns the holder, or "" when no run holds the lease.
func RequestAbort(ctx context.Context, client kubernetes.Interface, namespace, name string) (string, error) {
	leases := client.CoordinationV1().Leases(namespace)
	cur, err := leases.Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("get lease %s/%s: %w", namespace, name, err)
	}
	holder := ptr.Deref(cur.Spec.HolderIdentity, "")
	if holder == "" || claimable(cur, Holder{}) == nil {
		return "", nil
	}
	if cur.Annotations == nil {
		cur.Annotations = map[string]string{}
	}
	cur.Annotations[AbortAnnotation] = time.Now().UTC().Format(time.RFC3339)
	if _, err := leases.Update(ctx, cur, metav1.UpdateOptions{}); err != nil {
		return "", fmt.Errorf("request abort on lease %s/%s: %w", namespace, name, err)
	}
	return holder, nil
}

// Check returns an error wrapping ErrLocked, naming the holder, when a live
// run holds the lease; nil when the lease is free, expired or held by a dead
// process of this machine. It only reads.
func Check(ctx context.Context, client kubernetes.Interface, namespace, name string) error {
	cur, err := client.CoordinationV1().Leases(namespace).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("get lease %s/%s: %w", namespace, name, err)
	}
	if err := claimable(cur, Holder{}); err != nil {
		return fmt.Errorf("lease %s/%s: %w", namespace, name, err)
	}
	return nil
}
