package awsfake

import (
	"fmt"
	"maps"
	"net/url"
)

// Volume seeds an EBS volume directly, bypassing CreateVolume, so that a
// test or the standalone fake can start from a known volume ID.
type Volume struct {
	// ID is the volume ID ("vol-" and 8 or 17 hex digits); empty means a
	// random one.
	ID string
	// AZ is the availability zone, e.g. "us-east-1a".
	AZ string
	// Size is the size in GiB; 0 means 10.
	Size int32
	// Type is the volume type; empty means "gp3".
	Type string
	// Tags are the volume's tags.
	Tags map[string]string
	// InstanceID, when set, attaches the volume to that instance (which
	// must have been added with AddInstance, in the same zone). The
	// attachment is "attached" at once.
	InstanceID string
	// Device is the attachment's device name; empty means "/dev/xvdba".
	Device string
}

// AddVolume adds an "available" (or, with InstanceID, "in-use") volume and
// returns its ID.
func (s *Server) AddVolume(v Volume) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if v.ID == "" {
		v.ID = "vol-" + randHex(17)
	}
	if !volumeIDPattern.MatchString(v.ID) {
		return "", fmt.Errorf("add volume %q: malformed volume ID", v.ID)
	}
	if _, dup := s.ec2.volumes[v.ID]; dup {
		return "", fmt.Errorf("add volume %s: already exists", v.ID)
	}
	if v.AZ == "" {
		return "", fmt.Errorf("add volume %s: no availability zone", v.ID)
	}
	now := s.now()
	vol := &volume{
		id: v.ID, az: v.AZ, size: v.Size, volumeType: v.Type, state: "available",
		created: now, readyAt: now, tags: maps.Clone(v.Tags),
	}
	if vol.size == 0 {
		vol.size = 10
	}
	if vol.volumeType == "" {
		vol.volumeType = "gp3"
	}
	if vol.tags == nil {
		vol.tags = map[string]string{}
	}
	if v.InstanceID != "" {
		az, ok := s.ec2.instances[v.InstanceID]
		if !ok {
			return "", fmt.Errorf("add volume %s: instance %s was not added", v.ID, v.InstanceID)
		}
		if az != v.AZ {
			return "", fmt.Errorf("add volume %s: instance %s is in %s, not %s", v.ID, v.InstanceID, az, v.AZ)
		}
		if v.Device == "" {
			v.Device = "/dev/xvdba"
		}
		vol.attachment = &attachment{instanceID: v.InstanceID, device: v.Device, state: "attached", attached: now}
		vol.state = "in-use"
	}
	s.ec2.volumes[v.ID] = vol
	return v.ID, nil
}

// HoldAttachment makes the volume's detaches hang (hold true) or lets them
// finish (hold false). While held, a non-forced DetachVolume leaves the
// attachment "detaching" for good — a stuck detach, as when a node's
// kubelet never unmounts the filesystem — while a forced detach still
// completes after DetachDelay. Releasing the hold lets a stuck detach
// complete on the next read once its DetachDelay has passed.
func (s *Server) HoldAttachment(volumeID string, hold bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if hold {
		s.ec2.held[volumeID] = true
	} else {
		delete(s.ec2.held, volumeID)
	}
}

// ForcedDetaches returns the volume IDs of every accepted DetachVolume
// call with Force=true, in order, so tests can assert whether the code
// under test forced a detach.
func (s *Server) ForcedDetaches() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.ec2.forced...)
}

func (s *Server) ec2AttachVolume(f url.Values, reqID string) (any, *ec2Error) {
	volID, instID, device := f.Get("VolumeId"), f.Get("InstanceId"), f.Get("Device")
	if device == "" {
		return nil, ec2Errf("MissingParameter", "The request must contain the parameter device")
	}
	v, err := s.lookupVolume(volID)
	if err != nil {
		return nil, err
	}
	az, ok := s.ec2.instances[instID]
	if !ok {
		return nil, ec2Errf("InvalidInstanceID.NotFound", "The instance ID '%s' does not exist", instID)
	}
	if v.attachment != nil || v.state == "in-use" {
		return nil, ec2Errf("VolumeInUse", "%s is already attached to an instance", v.id)
	}
	if v.state != "available" {
		return nil, ec2Errf("IncorrectState", "vol '%s' is not 'available'.", v.id)
	}
	if v.az != az {
		return nil, ec2Errf("InvalidVolume.ZoneMismatch", "The volume '%s' is not in the same availability zone as instance '%s'", v.id, instID)
	}
	for _, other := range s.ec2.volumes {
		if a := other.attachment; a != nil && a.instanceID == instID && a.device == device {
			return nil, ec2Errf("InvalidParameterValue", "Attachment point %s is already in use", device)
		}
	}
	now := s.now()
	a := &attachment{instanceID: instID, device: device, state: "attaching", attached: now, attachDoneAt: now.Add(s.opts.AttachDelay)}
	if s.opts.AttachDelay == 0 {
		a.state = "attached"
	}
	v.attachment = a
	v.state = "in-use"
	return &attachmentResponse{XMLName: ec2Name("AttachVolumeResponse"), RequestID: reqID, attachmentXML: attachmentToXML(v, "attaching")}, nil
}

// ec2DetachVolume starts a detach. A forced detach is accepted in any
// attachment state, including an attachment already detaching (that is
// what Force is for), and is recorded for ForcedDetaches.
func (s *Server) ec2DetachVolume(f url.Values, reqID string) (any, *ec2Error) {
	v, err := s.lookupVolume(f.Get("VolumeId"))
	if err != nil {
		return nil, err
	}
	a := v.attachment
	if a == nil {
		return nil, ec2Errf("IncorrectState", "Volume '%s' is in the '%s' state.", v.id, v.state)
	}
	if inst := f.Get("InstanceId"); inst != "" && inst != a.instanceID {
		return nil, ec2Errf("InvalidAttachment.NotFound", "Attachment point for volume '%s' and instance '%s' does not exist", v.id, inst)
	}
	if dev := f.Get("Device"); dev != "" && dev != a.device {
		return nil, ec2Errf("InvalidAttachment.NotFound", "Attachment point %s for volume '%s' does not exist", dev, v.id)
	}
	force := f.Get("Force") == "true"
	if a.state == "detaching" && !force {
		return nil, ec2Errf("IncorrectState", "Volume '%s' is already detaching.", v.id)
	}
	if force {
		a.forced = true
		s.ec2.forced = append(s.ec2.forced, v.id)
	}
	if a.state != "detaching" {
		a.state = "detaching"
		a.detachDoneAt = s.now().Add(s.opts.DetachDelay)
	}
	return &attachmentResponse{XMLName: ec2Name("DetachVolumeResponse"), RequestID: reqID, attachmentXML: attachmentToXML(v, "")}, nil
}
