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
		id: "snap-" + randHex(17), volumeID: v.id, description: f.Get("Description"),
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
		for _, sn := range s.ec2.snapshots {
			snaps = append(snaps, sn)
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
				got = []string{s.opts.AccountID}
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
