package kube

import (
	"context"
	"fmt"
	"strings"
	"time"

	coordv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"github.com/bluegreen/bluegreen/internal/clock"
)

// getLease reads a lease; nil without error when there is none.
func getLease(ctx context.Context, client kubernetes.Interface, namespace, name string) (*coordv1.Lease, error) {
	cur, err := client.CoordinationV1().Leases(namespace).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("get lease %s/%s: %w", namespace, name, err)
	}
	return cur, nil
}

// liveHolder returns the lease's holder when it looks alive from here: set,
// not a dead process of this machine, and renewed recently by its own
// clock. It is a quick read for messages and refusals; Acquire alone
// decides takeovers, on this machine's clock.
func liveHolder(l *coordv1.Lease, now time.Time) string {
	holder := ptr.Deref(l.Spec.HolderIdentity, "")
	if holder == "" || ParseHolder(holder).deadOnThisHost() || !looksFresh(l, now) {
		return ""
	}
	return holder
}

// RequestAbort annotates the lease so that the run holding it aborts at its
// next renewal. It returns the holder, or "" when no live run holds the
// lease.
func RequestAbort(ctx context.Context, clk clock.Clock, client kubernetes.Interface, namespace, name string) (string, error) {
	leases := client.CoordinationV1().Leases(namespace)
	cur, err := getLease(ctx, client, namespace, name)
	if err != nil || cur == nil {
		return "", err
	}
	holder := liveHolder(cur, clk.Now())
	if holder == "" {
		return "", nil
	}
	if cur.Annotations == nil {
		cur.Annotations = map[string]string{}
	}
	cur.Annotations[AbortAnnotation] = clk.Now().UTC().Format(time.RFC3339)
	if _, err := leases.Update(ctx, cur, metav1.UpdateOptions{}); err != nil {
		return "", fmt.Errorf("request abort on lease %s/%s: %w", namespace, name, err)
	}
	return holder, nil
}

// Check returns an error wrapping ErrLocked, naming the holder, when a live
// run holds the lease; nil when the lease is free, looks expired or is held
// by a dead process of this machine. It only reads.
func Check(ctx context.Context, clk clock.Clock, client kubernetes.Interface, namespace, name string) error {
	cur, err := getLease(ctx, client, namespace, name)
	if err != nil || cur == nil {
		return err
	}
	if liveHolder(cur, clk.Now()) != "" {
		return fmt.Errorf("lease %s/%s: %w", namespace, name, lockedBy(cur))
	}
	return nil
}

// Unlock breaks the lease by force: it clears the holder and records who
// broke it. A live holder sees this at its next renewal and stops acting;
// the next run can take the lease at once. It returns the holder it
// removed ("" when the lease was free or absent).
func Unlock(ctx context.Context, clk clock.Clock, client kubernetes.Interface, namespace, name, by string) (string, error) {
	leases := client.CoordinationV1().Leases(namespace)
	cur, err := getLease(ctx, client, namespace, name)
	if err != nil || cur == nil {
		return "", err
	}
	holder := ptr.Deref(cur.Spec.HolderIdentity, "")
	if holder == "" {
		return "", nil
	}
	if cur.Annotations == nil {
		cur.Annotations = map[string]string{}
	}
	cur.Annotations[UnlockedAnnotation] = by + " at " + clk.Now().UTC().Format(time.RFC3339)
	delete(cur.Annotations, AbortAnnotation)
	noteLastRun(cur, ParseHolder(holder).Run)
	cur.Spec.HolderIdentity, cur.Spec.RenewTime = nil, nil
	if _, err := leases.Update(ctx, cur, metav1.UpdateOptions{}); err != nil {
		return "", fmt.Errorf("unlock lease %s/%s: %w", namespace, name, err)
	}
	return holder, nil
}

// LiveHolder returns who holds the lease when it looks alive, or "".
func LiveHolder(ctx context.Context, clk clock.Clock, client kubernetes.Interface, namespace, name string) (string, error) {
	cur, err := getLease(ctx, client, namespace, name)
	if err != nil || cur == nil {
		return "", err
	}
	return liveHolder(cur, clk.Now()), nil
}

// noteLastRun records on l, about to be released or broken, that run held
// it last, with the acquisition it held it by (LastRunAnnotation).
func noteLastRun(l *coordv1.Lease, run string) {
	if run == "" {
		return
	}
	if l.Annotations == nil {
		l.Annotations = map[string]string{}
	}
	l.Annotations[LastRunAnnotation] = run + " acquired=" + acquired(l)
}

// acquired is the lease's acquireTime as the last-run note writes it.
func acquired(l *coordv1.Lease) string {
	if l.Spec.AcquireTime == nil {
		return ""
	}
	return l.Spec.AcquireTime.UTC().Format(metav1.RFC3339Micro)
}

// LeaseRun reads lease namespace/name and returns the run that holds it,
// or held it last. Runs are journaled only with their lease held, so that
// run is the newest one of the lease's app, read in one call from etcd
// where a list of the app's runs grows with its history and, on a busy
// cluster, waits for the API server's watch cache to catch up.
//
// ok is false when the lease cannot say: there is none, its holder names
// no run, nobody noted the last run, or the note is of an acquisition
// before the current one (a bluegreen that writes no note took the lease
// since). Only a list of the runs can tell then.
func LeaseRun(ctx context.Context, client kubernetes.Interface, namespace, name string) (run string, ok bool, err error) {
	cur, err := getLease(ctx, client, namespace, name)
	if err != nil || cur == nil {
		return "", false, err
	}
	if holder := ptr.Deref(cur.Spec.HolderIdentity, ""); holder != "" {
		run = ParseHolder(holder).Run
		return run, run != "", nil
	}
	note, found := cur.Annotations[LastRunAnnotation]
	if !found {
		return "", false, nil
	}
	run, at, _ := strings.Cut(note, " acquired=")
	if run == "" || at == "" || at != acquired(cur) {
		return "", false, nil
	}
	return run, true, nil
}
