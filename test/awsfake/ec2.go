package awsfake

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

const (
	ec2APIVersion = "2016-11-15"
	ec2Namespace  = "http://ec2.amazonaws.com/doc/2016-11-15/"
)

var (
	volumeIDPattern   = regexp.MustCompile(`^vol-([0-9a-f]{8}|[0-9a-f]{17})$`)
	snapshotIDPattern = regexp.MustCompile(`^snap-([0-9a-f]{8}|[0-9a-f]{17})$`)
)

type ec2State struct {
	instances map[string]string // instance ID -> availability zone
	volumes   map[string]*volume
	snapshots map[string]*snapshot
	deleted   []string
	forced    []string        // volume IDs of accepted forced detaches, in order
	held      map[string]bool // volume IDs whose non-forced detach never completes
	throttle  map[string]int  // action → how many more calls answer RequestLimitExceeded
	failing   map[string]int  // volume ID → how many more of its snapshots end in error
	groups    map[string]*securityGroup
	groupIDs  []string // insertion order
	subnets   map[string]*subnet
	subnetIDs []string // insertion order
}

type volume struct {
	id, az, volumeType, snapshotID string
	size                           int32
	iops                           int32
	encrypted                      bool
	state                          string
	created, readyAt               time.Time
	tags                           map[string]string
	attachment                     *attachment
}

type attachment struct {
	instanceID, device, state            string
	attached, attachDoneAt, detachDoneAt time.Time
	forced                               bool // a forced detach was accepted
}

type snapshot struct {
	id, volumeID, description, state string
	// owner is the account that owns the snapshot; public makes another
	// account's snapshot visible to every account.
	owner           string
	public          bool
	volumeSize      int32
	started, doneAt time.Time
	tags            map[string]string
}

func (e *ec2State) init() {
	e.instances = map[string]string{}
	e.volumes = map[string]*volume{}
	e.snapshots = map[string]*snapshot{}
	e.throttle = map[string]int{}
	e.failing = map[string]int{}
	e.held = map[string]bool{}
	e.groups = map[string]*securityGroup{}
	e.subnets = map[string]*subnet{}
}

// ec2Error is an EC2 API error: HTTP 400 with a Response/Errors/Error body.
type ec2Error struct{ code, msg string }

func (e *ec2Error) Error() string { return e.code + ": " + e.msg }

func ec2Errf(code, format string, args ...any) *ec2Error {
	return &ec2Error{code: code, msg: fmt.Sprintf(format, args...)}
}

// AddInstance registers an instance that volumes can be attached to.
func (s *Server) AddInstance(id, az string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ec2.instances[id] = az
}

// DeletedVolumes returns the IDs of volumes successfully deleted through
// DeleteVolume, in order. Tests use it to assert nothing was deleted.
func (s *Server) DeletedVolumes() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.ec2.deleted...)
}

// advanceEC2Locked applies every asynchronous transition that is due.
func (s *Server) advanceEC2Locked(now time.Time) {
	for _, v := range s.ec2.volumes {
		if v.state == "creating" && !now.Before(v.readyAt) {
			v.state = "available"
		}
		a := v.attachment
		if a == nil {
			continue
		}
		if a.state == "attaching" && !now.Before(a.attachDoneAt) {
			a.state = "attached"
		}
		// A held attachment models a node that never unmounts: only a
		// forced detach gets it off.
		if a.state == "detaching" && !now.Before(a.detachDoneAt) && (a.forced || !s.ec2.held[v.id]) {
			v.attachment = nil
			v.state = "available"
		}
	}
	for _, sn := range s.ec2.snapshots {
		if sn.state == "pending" && !now.Before(sn.doneAt) {
			sn.state = "completed"
			if s.ec2.failing[sn.volumeID] > 0 {
				s.ec2.failing[sn.volumeID]--
				sn.state = "error"
			}
		}
	}
}

func (s *Server) serveEC2(w http.ResponseWriter, f url.Values, reqID string) {
	action := f.Get("Action")
	handlers := map[string]func(url.Values, string) (any, *ec2Error){
		"CreateVolume":           s.ec2CreateVolume,
		"DescribeVolumes":        s.ec2DescribeVolumes,
		"AttachVolume":           s.ec2AttachVolume,
		"DetachVolume":           s.ec2DetachVolume,
		"DeleteVolume":           s.ec2DeleteVolume,
		"CreateTags":             s.ec2CreateTags,
		"DeleteTags":             s.ec2DeleteTags,
		"CreateSnapshot":         s.ec2CreateSnapshot,
		"DescribeSnapshots":      s.ec2DescribeSnapshots,
		"DescribeSecurityGroups": s.ec2DescribeSecurityGroups,
		"DescribeSubnets":        s.ec2DescribeSubnets,
	}
	h, ok := handlers[action]
	if !ok {
		writeEC2Error(w, reqID, ec2Errf("InvalidAction", "The action %s is not valid for this web service.", action))
		return
	}
	if f.Get("DryRun") == "true" {
		writeEC2Error(w, reqID, ec2Errf("DryRunOperation", "Request would have succeeded, but DryRun flag is set."))
		return
	}
	s.mu.Lock()
	s.advanceEC2Locked(s.now())
	var out any
	var apiErr *ec2Error
	if s.ec2.throttle[action] > 0 {
		s.ec2.throttle[action]--
		apiErr = ec2Errf("RequestLimitExceeded", "Request limit exceeded.")
	} else {
		out, apiErr = h(f, reqID)
	}
	s.mu.Unlock()
	if apiErr != nil {
		writeEC2Error(w, reqID, apiErr)
		return
	}
	writeXML(w, http.StatusOK, reqID, out)
}

func (s *Server) ec2CreateVolume(f url.Values, reqID string) (any, *ec2Error) {
	az := f.Get("AvailabilityZone")
	if az == "" {
		return nil, ec2Errf("MissingParameter", "The request must contain the parameter AvailabilityZone")
	}
	v := &volume{
		id:         "vol-" + randHex(17),
		az:         az,
		volumeType: f.Get("VolumeType"),
		snapshotID: f.Get("SnapshotId"),
		encrypted:  f.Get("Encrypted") == "true",
		state:      "creating",
		tags:       map[string]string{},
	}
	if v.volumeType == "" {
		v.volumeType = "gp2"
	}
	if sz := f.Get("Size"); sz != "" {
		n, err := strconv.ParseInt(sz, 10, 32)
		if err != nil || n < 1 || n > 65536 {
			return nil, ec2Errf("InvalidParameterValue", "Invalid value '%s' for size", sz)
		}
		v.size = int32(n)
	}
	if v.snapshotID != "" {
		sn, ok := s.ec2.snapshots[v.snapshotID]
		if !ok {
			return nil, ec2Errf("InvalidSnapshot.NotFound", "The snapshot '%s' does not exist.", v.snapshotID)
		}
		if v.size == 0 {
			v.size = sn.volumeSize
		} else if v.size < sn.volumeSize {
			return nil, ec2Errf("InvalidParameterValue", "Volume of %dGiB is too small; minimum is %dGiB.", v.size, sn.volumeSize)
		}
	} else if v.size == 0 {
		return nil, ec2Errf("MissingParameter", "The request must contain the parameter size or snapshotId")
	}
	if iops := f.Get("Iops"); iops != "" {
		n, _ := strconv.ParseInt(iops, 10, 32)
		v.iops = int32(n)
	}
	for _, spec := range tagSpecs(f) {
		if spec.resourceType == "volume" {
			for k, val := range spec.tags {
				v.tags[k] = val
			}
		}
	}
	now := s.now()
	v.created = now
	v.readyAt = now.Add(s.opts.VolumeCreateDelay)
	s.ec2.volumes[v.id] = v
	return &createVolumeResponse{RequestID: reqID, volumeXML: s.volumeXML(v)}, nil
}

func (s *Server) ec2DescribeVolumes(f url.Values, reqID string) (any, *ec2Error) {
	ids := listValues(f, "VolumeId")
	filters, err := parseFilters(f)
	if err != nil {
		return nil, err
	}
	var vols []*volume
	if len(ids) > 0 {
		var missing []string
		for _, id := range ids {
			if !volumeIDPattern.MatchString(id) {
				return nil, ec2Errf("InvalidVolumeID.Malformed", "Invalid id: %q", id)
			}
			v, ok := s.ec2.volumes[id]
			if !ok {
				missing = append(missing, "'"+id+"'")
				continue
			}
			vols = append(vols, v)
		}
		if len(missing) > 0 {
			return nil, ec2Errf("InvalidVolume.NotFound", "The volume %s does not exist.", strings.Join(missing, ", "))
		}
	} else {
		for _, v := range s.ec2.volumes {
			vols = append(vols, v)
		}
		sort.Slice(vols, func(i, j int) bool {
			return vols[i].created.Before(vols[j].created) || (vols[i].created.Equal(vols[j].created) && vols[i].id < vols[j].id)
		})
	}
	out := &describeVolumesResponse{RequestID: reqID, Volumes: []volumeXML{}}
	for _, v := range vols {
		ok, ferr := matchVolume(v, filters)
		if ferr != nil {
			return nil, ferr
		}
		if ok {
			out.Volumes = append(out.Volumes, s.volumeXML(v))
		}
	}
	return out, nil
}

func matchVolume(v *volume, filters []filter) (bool, *ec2Error) {
	for _, fl := range filters {
		var got []string
		switch {
		case fl.name == "status":
			got = []string{v.state}
		case fl.name == "availability-zone":
			got = []string{v.az}
		case fl.name == "volume-id":
			got = []string{v.id}
		case fl.name == "volume-type":
			got = []string{v.volumeType}
		case fl.name == "size":
			got = []string{strconv.Itoa(int(v.size))}
		case fl.name == "snapshot-id":
			got = []string{v.snapshotID}
		case fl.name == "attachment.instance-id" || fl.name == "attachment.status" || fl.name == "attachment.device":
			if v.attachment != nil {
				got = []string{map[string]string{
					"attachment.instance-id": v.attachment.instanceID,
					"attachment.status":      v.attachment.state,
					"attachment.device":      v.attachment.device,
				}[fl.name]}
			}
		case fl.name == "tag-key":
			for k := range v.tags {
				got = append(got, k)
			}
		case strings.HasPrefix(fl.name, "tag:"):
			if val, ok := v.tags[strings.TrimPrefix(fl.name, "tag:")]; ok {
				got = []string{val}
			}
		default:
			return false, ec2Errf("InvalidParameterValue", "The filter '%s' is invalid", fl.name)
		}
		if !fl.matchAny(got) {
			return false, nil
		}
	}
	return true, nil
}

func (s *Server) ec2DeleteVolume(f url.Values, reqID string) (any, *ec2Error) {
	v, err := s.lookupVolume(f.Get("VolumeId"))
	if err != nil {
		return nil, err
	}
	if v.attachment != nil {
		return nil, ec2Errf("VolumeInUse", "Volume %s is currently attached to %s", v.id, v.attachment.instanceID)
	}
	if v.state != "available" {
		return nil, ec2Errf("IncorrectState", "The volume '%s' is '%s'.", v.id, v.state)
	}
	delete(s.ec2.volumes, v.id)
	s.ec2.deleted = append(s.ec2.deleted, v.id)
	return &returnResponse{XMLName: ec2Name("DeleteVolumeResponse"), RequestID: reqID, Return: true}, nil
}

func (s *Server) lookupVolume(id string) (*volume, *ec2Error) {
	if id == "" {
		return nil, ec2Errf("MissingParameter", "The request must contain the parameter volumeId")
	}
	if !volumeIDPattern.MatchString(id) {
		return nil, ec2Errf("InvalidVolumeID.Malformed", "Invalid id: %q", id)
	}
	v, ok := s.ec2.volumes[id]
	if !ok {
		return nil, ec2Errf("InvalidVolume.NotFound", "The volume '%s' does not exist.", id)
	}
	return v, nil
}
