package awsfake

import (
	"net/url"
	"sort"
	"strings"
)

func (s *Server) ec2CreateSnapshot(f url.Values, reqID string) (any, *ec2Error) {
	v, err := s.lookupVolume(f.Get("VolumeId"))
	if err != nil {
		return nil, err
	}
	now := s.now()
	sn := &snapshot{
		id: "snap-" + randHex(17), volumeID: v.id, description: f.Get("Description"), owner: s.opts.AccountID,
		state: "pending", volumeSize: v.size, started: now, doneAt: now.Add(s.opts.SnapshotDelay),
		tags: map[string]string{},
	}
	for _, spec := range tagSpecs(f) {
		if spec.resourceType == "snapshot" {
			for k, val := range spec.tags {
				sn.tags[k] = val
			}
		}
	}
	s.ec2.snapshots[sn.id] = sn
	return &createSnapshotResponse{RequestID: reqID, snapshotXML: s.snapshotXML(sn)}, nil
}

func (s *Server) ec2DescribeSnapshots(f url.Values, reqID string) (any, *ec2Error) {
	ids := listValues(f, "SnapshotId")
	filters, err := parseFilters(f)
	if err != nil {
		return nil, err
	}
	var snaps []*snapshot
	if len(ids) > 0 {
		for _, id := range ids {
			if !snapshotIDPattern.MatchString(id) {
				return nil, ec2Errf("InvalidSnapshotID.Malformed", "Invalid id: %q", id)
			}
			sn, ok := s.ec2.snapshots[id]
			if !ok {
				return nil, ec2Errf("InvalidSnapshot.NotFound", "The snapshot '%s' does not exist.", id)
			}
			snaps = append(snaps, sn)
		}
	} else {
		owners := listValues(f, "Owner")
		for _, sn := range s.ec2.snapshots {
			if s.snapshotOwnedBy(sn, owners) {
				snaps = append(snaps, sn)
			}
		}
		sort.Slice(snaps, func(i, j int) bool {
			return snaps[i].started.Before(snaps[j].started) || (snaps[i].started.Equal(snaps[j].started) && snaps[i].id < snaps[j].id)
		})
	}
	out := &describeSnapshotsResponse{RequestID: reqID, Snapshots: []snapshotXML{}}
	for _, sn := range snaps {
		ok := true
		for _, fl := range filters {
			var got []string
			switch {
			case fl.name == "status":
				got = []string{sn.state}
			case fl.name == "volume-id":
				got = []string{sn.volumeID}
			case fl.name == "snapshot-id":
				got = []string{sn.id}
			case fl.name == "description":
				got = []string{sn.description}
			case fl.name == "owner-id":
				got = []string{sn.owner}
			case strings.HasPrefix(fl.name, "tag:"):
				if val, has := sn.tags[strings.TrimPrefix(fl.name, "tag:")]; has {
					got = []string{val}
				}
			default:
				return nil, ec2Errf("InvalidParameterValue", "The filter '%s' is invalid", fl.name)
			}
			ok = ok && fl.matchAny(got)
		}
		if ok {
			out.Snapshots = append(out.Snapshots, s.snapshotXML(sn))
		}
	}
	return out, nil
}

// snapshotOwnedBy applies DescribeSnapshots' OwnerIds: with none, EC2
// lists every snapshot the caller may use (its own and public ones of
// other accounts); "self" is the caller's account, another ID lists that
// account's public snapshots.
func (s *Server) snapshotOwnedBy(sn *snapshot, owners []string) bool {
	mine := sn.owner == s.opts.AccountID
	if !mine && !sn.public {
		return false // another account's private snapshot is never listed
	}
	if len(owners) == 0 {
		return true
	}
	for _, o := range owners {
		if o == sn.owner || (o == "self" && mine) {
			return true
		}
	}
	return false
}

// Snapshot seeds a snapshot that the code under test did not create.
type Snapshot struct {
	// VolumeID is the volume it was taken of.
	VolumeID string
	// State is pending, completed or error (default completed).
	State string
	// OwnerID is the owning account (default the fake's own); another
	// account's snapshot is listed only when Public.
	OwnerID string
	Public  bool
	Tags    map[string]string
}

// AddSnapshot seeds a snapshot and returns its ID.
func (s *Server) AddSnapshot(sn Snapshot) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sn.State == "" {
		sn.State = "completed"
	}
	if sn.OwnerID == "" {
		sn.OwnerID = s.opts.AccountID
	}
	now := s.now()
	x := &snapshot{id: "snap-" + randHex(17), volumeID: sn.VolumeID, state: sn.State, owner: sn.OwnerID, public: sn.Public,
		volumeSize: 10, started: now, doneAt: now, tags: map[string]string{}}
	for k, v := range sn.Tags {
		x.tags[k] = v
	}
	s.ec2.snapshots[x.id] = x
	return x.id
}

// FailSnapshots makes the next n snapshots of volume to finish end in the
// error state, as EC2 reports a snapshot it could not complete.
func (s *Server) FailSnapshots(volumeID string, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ec2.failing[volumeID] = n
}

// Throttle makes the next n calls of EC2 action (e.g. "CreateSnapshot")
// answer RequestLimitExceeded, as EC2 does when the account's request
// rate for that API is exceeded.
func (s *Server) Throttle(action string, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ec2.throttle[action] = n
}
