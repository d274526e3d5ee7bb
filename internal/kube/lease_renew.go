package kube

import (
	"context"
	"errors"
	"fmt"
	"time"

	coordv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

// errTaken marks a renewal that found the lease no longer ours.
var errTaken = errors.New("taken")

// renew keeps the lease until Release. It gives the lease up, and the run
// with it, as soon as a renewal finds another holder (or no lease), or when
// renewals have failed for half the lease duration: by then another machine
// that watched the lease may be about to take it, and a run that cannot
// prove it holds its lock must not act.
func (l *Lease) renew(ctx context.Context) {
	defer close(l.done)
	every := l.opts.renewEvery()
	giveUp := l.opts.Duration / 2
	lastOK := l.opts.Clock.Now()
	for {
		if err := l.opts.Clock.SleepUntil(ctx, l.opts.Clock.Now().Add(every)); err != nil {
			return
		}
		actx, cancel := context.WithTimeout(ctx, every)
		err := l.renewOnce(actx)
		cancel()
		switch {
		case ctx.Err() != nil:
			return
		case errors.Is(err, errTaken):
			l.lose(fmt.Errorf("%w %s/%s: %w", ErrLeaseLost, l.opts.Namespace, l.opts.Name, err))
			return
		case err != nil:
			failing := l.opts.Clock.Now().Sub(lastOK)
			if failing >= giveUp {
				l.lose(fmt.Errorf("%w %s/%s: could not renew it for %s: %w", ErrLeaseLost, l.opts.Namespace, l.opts.Name, failing.Round(time.Second), err))
				return
			}
			l.opts.Log.Warn("renew lease", "lease", l.opts.Name, "failing", failing.Round(time.Millisecond), "error", err)
		default:
			lastOK = l.opts.Clock.Now()
		}
	}
}

// renewOnce writes a new RenewTime if the lease is still ours. A conflict
// (someone else wrote the lease, e.g. an abort request) is read again at
// once.
func (l *Lease) renewOnce(ctx context.Context) error {
	leases := l.client.CoordinationV1().Leases(l.opts.Namespace)
	me := l.opts.Holder.String()
	for range 3 {
		cur, err := leases.Get(ctx, l.opts.Name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return fmt.Errorf("%w: the lease was deleted", errTaken)
		}
		if err != nil {
			return err
		}
		if _, ok := cur.Annotations[AbortAnnotation]; ok {
			l.abortMu.Do(func() { close(l.abort) })
		}
		if holder := ptr.Deref(cur.Spec.HolderIdentity, ""); holder != me {
			if by := cur.Annotations[UnlockedAnnotation]; holder == "" && by != "" {
				return fmt.Errorf("%w: unlocked by %s", errTaken, by)
			}
			if holder == "" {
				holder = "nobody (released)"
			}
			return fmt.Errorf("%w: now held by %s", errTaken, holder)
		}
		now := metav1.NewMicroTime(l.opts.Clock.Now())
		cur.Spec.RenewTime = &now
		out, err := leases.Update(ctx, cur, metav1.UpdateOptions{})
		if err == nil {
			l.remember(out)
		}
		if !apierrors.IsConflict(err) {
			return err
		}
	}
	return errors.New("renew lease: conflicting writes")
}

// Release stops renewing and frees the lease for the next run. A lost
// lease is left to its new holder.
func (l *Lease) Release(ctx context.Context) error {
	l.cancel()
	<-l.done
	if l.Cause() != nil {
		return nil
	}
	leases := l.client.CoordinationV1().Leases(l.opts.Namespace)
	l.mineMu.Lock()
	cur := l.mine
	l.mineMu.Unlock()
	for range 3 {
		if cur == nil {
			var err error
			if cur, err = leases.Get(ctx, l.opts.Name, metav1.GetOptions{}); err != nil {
				return fmt.Errorf("release lease %s/%s: %w", l.opts.Namespace, l.opts.Name, err)
			}
		}
		if ptr.Deref(cur.Spec.HolderIdentity, "") != l.opts.Holder.String() {
			return nil
		}
		free := cur.DeepCopy()
		// An empty holder, not none: the next run takes the lease in one
		// call (see takeReleased).
		free.Spec.HolderIdentity = ptr.To("")
		free.Spec.RenewTime = nil
		delete(free.Annotations, AbortAnnotation)
		noteLastRun(free, l.opts.Holder.Run)
		// Written over the lease as this holder last wrote it: one call,
		// and a conflict if anyone wrote it since; then read and judge again.
		_, err := leases.Update(ctx, free, metav1.UpdateOptions{})
		if err == nil {
			return nil
		}
		if !apierrors.IsConflict(err) {
			return fmt.Errorf("release lease %s/%s: %w", l.opts.Namespace, l.opts.Name, err)
		}
		cur = nil
	}
	return fmt.Errorf("release lease %s/%s: conflicting writes", l.opts.Namespace, l.opts.Name)
}

func (l *Lease) remember(mine *coordv1.Lease) {
	l.mineMu.Lock()
	l.mine = mine
	l.mineMu.Unlock()
}
