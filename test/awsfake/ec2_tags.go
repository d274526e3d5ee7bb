package awsfake

import (
	"net/url"
	"strconv"
	"strings"
)

func (s *Server) ec2CreateTags(f url.Values, reqID string) (any, *ec2Error) {
	targets, err := s.tagTargets(f)
	if err != nil {
		return nil, err
	}
	tags := parseTags(f, "Tag")
	for _, m := range targets {
		for k, v := range tags {
			m[k] = v
		}
	}
	return &returnResponse{XMLName: ec2Name("CreateTagsResponse"), RequestID: reqID, Return: true}, nil
}

// ec2DeleteTags follows EC2: a tag given with a value is deleted only if
// the value matches; a tag given without one is deleted whatever its value;
// no tags at all deletes every tag of the resources.
func (s *Server) ec2DeleteTags(f url.Values, reqID string) (any, *ec2Error) {
	targets, err := s.tagTargets(f)
	if err != nil {
		return nil, err
	}
	type del struct {
		key      string
		value    string
		hasValue bool
	}
	var dels []del
	for i := 1; ; i++ {
		p := "Tag." + strconv.Itoa(i)
		k, ok := f[p+".Key"]
		if !ok || len(k) == 0 {
			break
		}
		v, hasValue := f[p+".Value"]
		d := del{key: k[0], hasValue: hasValue && len(v) > 0}
		if d.hasValue {
			d.value = v[0]
		}
		dels = append(dels, d)
	}
	for _, m := range targets {
		if len(dels) == 0 {
			clear(m)
			continue
		}
		for _, d := range dels {
			if cur, ok := m[d.key]; ok && (!d.hasValue || cur == d.value) {
				delete(m, d.key)
			}
		}
	}
	return &returnResponse{XMLName: ec2Name("DeleteTagsResponse"), RequestID: reqID, Return: true}, nil
}

// tagTargets resolves the ResourceId list to the tag maps to change; any
// unknown resource fails the whole call, as in EC2.
func (s *Server) tagTargets(f url.Values) ([]map[string]string, *ec2Error) {
	ids := listValues(f, "ResourceId")
	if len(ids) == 0 {
		return nil, ec2Errf("MissingParameter", "The request must contain the parameter resourceIdSet")
	}
	targets := make([]map[string]string, 0, len(ids))
	for _, id := range ids {
		switch {
		case strings.HasPrefix(id, "vol-"):
			v, err := s.lookupVolume(id)
			if err != nil {
				return nil, err
			}
			targets = append(targets, v.tags)
		case strings.HasPrefix(id, "snap-"):
			sn, ok := s.ec2.snapshots[id]
			if !ok {
				return nil, ec2Errf("InvalidSnapshot.NotFound", "The snapshot '%s' does not exist.", id)
			}
			targets = append(targets, sn.tags)
		default:
			return nil, ec2Errf("InvalidID", "The ID '%s' is not valid", id)
		}
	}
	return targets, nil
}
