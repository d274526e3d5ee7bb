package ebssim

import (
	"context"
	"time"
)

// volume is the state one worker keeps about one EBS volume. Only its
// worker goroutine touches it, except kick.
type volume struct {
	id   string
	kick chan struct{}

	seen      map[string]time.Time // node -> when a pod there began to want the volume
	probed    map[string]bool      // nodes for which EC2 was asked whether the volume is there already
	at        *attachment          // where the volume is attached; nil when nowhere known
	idleSince time.Time            // when the last pod using it on at.node went away
	vas       map[string]string    // node -> name of the VolumeAttachment kept for it
	failed    map[string]string    // node -> last attach error shown on its VolumeAttachment
	reported  map[string]bool      // pod UID + message of events already recorded
	logged    string               // last problem logged, so each is logged once
}

// attachment is an attachment the simulator made or found.
type attachment struct {
	node, instance, device string
	w                      *want // the demand it was made for (PV name, handle)
	state                  string
	since                  time.Time // when the current state began, for elapsed times
}

// Attachment states.
const (
	stateAttaching = "attaching"
	stateAttached  = "attached"
	stateDetaching = "detaching"
)

func newVolume(id string) *volume {
	return &volume{
		id:       id,
		kick:     make(chan struct{}, 1),
		seen:     map[string]time.Time{},
		probed:   map[string]bool{},
		vas:      map[string]string{},
		failed:   map[string]string{},
		reported: map[string]bool{},
	}
}

// sooner returns the shorter of two waits, where 0 means no wait at all.
func sooner(a, b time.Duration) time.Duration {
	switch {
	case a <= 0:
		return b
	case b <= 0:
		return a
	}
	return min(a, b)
}

// reconcile moves v one step towards what the cluster's pods want and
// returns how long to wait before the next pass if no event comes (0: only
// an event), and whether the worker has nothing left to do.
func (s *Simulator) reconcile(ctx context.Context, v *volume) (time.Duration, bool) {
	if ctx.Err() != nil {
		return 0, false
	}
	wants := s.desired(v.id)
	now := time.Now()
	for n := range wants {
		if _, ok := v.seen[n]; !ok {
			v.seen[n] = now
		}
	}
	for n := range v.seen {
		if wants[n] == nil {
			delete(v.seen, n)
			delete(v.probed, n)
			delete(v.failed, n)
		}
	}

	var next time.Duration
	if a := v.at; a != nil {
		switch w := wants[a.node]; {
		case a.state != stateAttached:
			next = s.checkTransition(ctx, v)
		case w != nil:
			v.idleSince = time.Time{}
			a.w = w
			s.syncAttachment(ctx, v, a.node, w, vaState{attached: true, device: a.device})
		default:
			next = s.maybeDetach(ctx, v, now)
		}
	}
	for _, n := range sortedNodes(wants) {
		if v.at == nil || v.at.node != n {
			next = sooner(next, s.attachTo(ctx, v, n, wants[n], now))
		}
	}
	stale := func(n string) bool { return wants[n] == nil && (v.at == nil || v.at.node != n) }
	for n := range v.vas {
		if stale(n) {
			s.deleteAttachment(ctx, v, n)
		}
	}
	for n := range v.vas {
		if stale(n) { // the deletion failed: try again
			next = sooner(next, s.opts.RetryInterval)
		}
	}
	return next, len(wants) == 0 && v.at == nil && len(v.vas) == 0
}

// attachTo works towards attaching v to node, which wants it: it first
// looks whether the volume is there already (adopting an attachment made
// before the simulator started), then waits AttachDelay, then attaches.
// It reports a volume attached elsewhere as a Multi-Attach error.
func (s *Simulator) attachTo(ctx context.Context, v *volume, node string, w *want, now time.Time) time.Duration {
	retry := s.opts.RetryInterval
	delay := s.opts.AttachDelay - now.Sub(v.seen[node])
	s.syncAttachment(ctx, v, node, w, vaState{attachErr: v.failed[node]})
	instance, err := s.instanceOf(node)
	if err != nil {
		s.logOnce(v, "cannot attach volume", err)
		return retry
	}
	if delay > 0 && v.probed[node] {
		return delay
	}
	ebs, err := s.describe(ctx, v.id)
	switch {
	case ctx.Err() != nil:
		return 0
	case err != nil:
		s.reportAttachFailure(ctx, v, node, w, attachFailedMessage(w.pv, errorText(err)))
		return retry
	}
	v.probed[node] = true
	switch {
	case ebs.instance == instance && ebs.attachState != stateDetaching:
		if v.at != nil {
			return 0 // EC2 and the simulator disagree; the attachment's own checks sort it out
		}
		s.log.Info("volume already attached", "volume", v.id, "pv", w.pv, "node", node, "instance", instance)
		s.adopt(v, node, instance, ebs.device, w, stateAttaching)
		return s.checkTransition(ctx, v)
	case delay > 0:
		return delay
	case ebs.instance == instance: // still detaching from this very node
		return retry
	case ebs.instance != "":
		s.reportAttachFailure(ctx, v, node, w, multiAttachMessage(w.pv, ebs.instance))
		return retry
	case ebs.state != "available":
		s.logOnce(v, "volume not available yet", nil, "state", ebs.state)
		return retry
	}
	return s.attach(ctx, v, node, instance, w)
}

// attach calls AttachVolume with a free device name.
func (s *Simulator) attach(ctx context.Context, v *volume, node, instance string, w *want) time.Duration {
	for range 8 { // a few device names may be taken by volumes the simulator does not know
		device, err := s.devices.allocate(instance)
		if err != nil {
			s.reportAttachFailure(ctx, v, node, w, attachFailedMessage(w.pv, err.Error()))
			return s.opts.RetryInterval
		}
		log := s.log.With("volume", v.id, "pv", w.pv, "node", node, "instance", instance, "device", device)
		log.Info("attaching volume")
		err = s.attachVolume(ctx, v.id, instance, device)
		if err == nil {
			s.adopt(v, node, instance, device, w, stateAttaching)
			return s.checkTransition(ctx, v)
		}
		s.devices.release(instance, device)
		switch code := errorCode(err); {
		case deviceInUse(err):
			log.Info("device name taken by another volume; trying the next")
			s.devices.mark(instance, device)
			continue
		case code == "VolumeInUse" || code == "IncorrectState":
			// Lost a race with another attach: the next pass names the holder.
			log.Debug("volume not attachable yet", "error", errorText(err))
			return s.opts.RetryInterval
		case ctx.Err() != nil:
			return 0
		}
		s.reportAttachFailure(ctx, v, node, w, attachFailedMessage(w.pv, errorText(err)))
		return s.opts.RetryInterval
	}
	return s.opts.RetryInterval
}

// adopt records that v is attached, or being attached, to node.
func (s *Simulator) adopt(v *volume, node, instance, device string, w *want, state string) {
	if device != "" {
		s.devices.mark(instance, device)
	}
	v.at = &attachment{node: node, instance: instance, device: device, w: w, state: state, since: time.Now()}
	v.idleSince = time.Time{}
	v.logged = ""
	delete(v.failed, node)
	s.setPlaced(v.id, placed{node: node, instance: instance})
}

// maybeDetach detaches v from the node no pod there uses it on any more,
// once DetachDelay has passed, unless v is held.
func (s *Simulator) maybeDetach(ctx context.Context, v *volume, now time.Time) time.Duration {
	a := v.at
	if v.idleSince.IsZero() {
		v.idleSince = now
		s.log.Debug("volume unused on node", "volume", v.id, "node", a.node)
	}
	if s.isHeld(v.id) {
		s.logOnce(v, "volume held; not detaching", nil, "node", a.node)
		return 0 // Hold(id, false) kicks the worker
	}
	if d := s.opts.DetachDelay - now.Sub(v.idleSince); d > 0 {
		return d
	}
	s.log.Info("detaching volume", "volume", v.id, "pv", a.w.pv, "node", a.node, "instance", a.instance)
	if err := s.detachVolume(ctx, v.id, a.instance); err != nil && !attachmentGone(err) {
		if ctx.Err() == nil {
			s.logOnce(v, "cannot detach volume", err)
		}
		return s.opts.RetryInterval
	}
	a.state, a.since = stateDetaching, time.Now()
	return s.checkTransition(ctx, v)
}

// checkTransition looks in EC2 whether an attach or a detach of v has
// completed, as the driver waits for it before it answers, and updates
// the VolumeAttachment when it has.
func (s *Simulator) checkTransition(ctx context.Context, v *volume) time.Duration {
	a := v.at
	ebs, err := s.describe(ctx, v.id)
	if err != nil && errorCode(err) != "InvalidVolume.NotFound" {
		if ctx.Err() == nil {
			s.logOnce(v, "cannot check volume", err)
		}
		return s.opts.RetryInterval
	}
	log := s.log.With("volume", v.id, "pv", a.w.pv, "node", a.node, "instance", a.instance)
	switch {
	case a.state == stateAttaching && ebs.instance == a.instance && ebs.attachState == stateAttached:
		a.state = stateAttached
		log.Info("attached volume", "device", a.device, "elapsed", time.Since(a.since).Round(time.Millisecond))
		s.syncAttachment(ctx, v, a.node, a.w, vaState{attached: true, device: a.device})
		return 0
	case a.state == stateAttaching && ebs.instance != a.instance:
		log.Warn("attachment vanished while attaching")
		s.forget(ctx, v)
		return s.opts.RetryInterval
	case a.state == stateDetaching && ebs.instance != a.instance:
		log.Info("detached volume", "elapsed", time.Since(a.since).Round(time.Millisecond))
		s.forget(ctx, v)
		return 0
	}
	return s.opts.RetryInterval
}

// forget drops v's attachment after it went away in EC2.
func (s *Simulator) forget(ctx context.Context, v *volume) {
	a := v.at
	v.at, v.idleSince = nil, time.Time{}
	delete(v.probed, a.node)
	if a.device != "" {
		s.devices.release(a.instance, a.device)
	}
	s.setPlaced(v.id, placed{})
	s.deleteAttachment(ctx, v, a.node)
}

// logOnce logs a problem of v at warning level unless it is the same as
// the last one logged; err may be nil.
func (s *Simulator) logOnce(v *volume, msg string, err error, args ...any) {
	text := msg
	if err != nil {
		text += ": " + errorText(err)
		args = append(args, "error", errorText(err))
	}
	if text == v.logged {
		return
	}
	v.logged = text
	s.log.Warn(msg, append([]any{"volume", v.id}, args...)...)
}
