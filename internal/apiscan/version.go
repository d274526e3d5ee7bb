package apiscan

import (
	"cmp"
	"fmt"
	"strconv"
	"strings"
)

// Version is a Kubernetes release as far as API removals care: major and
// minor. Patch releases never remove an API.
type Version struct {
	Major int
	Minor int
}

// ParseVersion parses a Kubernetes release as users, kubectl and managed
// control planes spell it: "1.33", "v1.33", "1.33.2", "v1.33.0-eks-1234",
// or the "1.29+" minor that EKS reports. Anything after the patch number
// (a pre-release or build suffix) is ignored.
func ParseVersion(s string) (Version, error) {
	raw := s
	s = strings.TrimPrefix(strings.TrimSpace(s), "v")
	if i := strings.IndexAny(s, "-+"); i >= 0 {
		s = s[:i]
	}
	parts := strings.Split(s, ".")
	if len(parts) < 2 || len(parts) > 3 {
		return Version{}, fmt.Errorf("kubernetes version %q: want <major>.<minor>[.<patch>], e.g. 1.33", raw)
	}
	nums := make([]int, len(parts))
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 {
			return Version{}, fmt.Errorf("kubernetes version %q: %q is not a number, want e.g. 1.33", raw, p)
		}
		nums[i] = n
	}
	if nums[0] < 1 {
		return Version{}, fmt.Errorf("kubernetes version %q: major version must be at least 1", raw)
	}
	return Version{Major: nums[0], Minor: nums[1]}, nil
}

// MustParseVersion is ParseVersion for constants; it panics on an invalid
// version.
func MustParseVersion(s string) Version {
	v, err := ParseVersion(s)
	if err != nil {
		panic(err)
	}
	return v
}

// String returns v as "<major>.<minor>", e.g. "1.33".
func (v Version) String() string {
	return fmt.Sprintf("%d.%d", v.Major, v.Minor)
}

// Compare returns -1, 0 or +1 as v is older than, the same as, or newer
// than w.
func (v Version) Compare(w Version) int {
	if c := cmp.Compare(v.Major, w.Major); c != 0 {
		return c
	}
	return cmp.Compare(v.Minor, w.Minor)
}

// AtLeast reports whether v is w or newer.
func (v Version) AtLeast(w Version) bool { return v.Compare(w) >= 0 }
