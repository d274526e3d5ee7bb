package apiscan

import (
	"cmp"
	"fmt"

	"k8s.io/apimachinery/pkg/util/version"
)

// Version is a Kubernetes release as far as API removals care: major and
// minor. Patch releases never remove an API.
type Version struct {
	Major int
	Minor int
}

// ParseVersion parses a Kubernetes release as users, kubectl and managed
// control planes spell it: "1.33", "v1.33", "1.33.2", "v1.33.0-eks-1234",
// or the "1.29+" minor that EKS reports, with apimachinery's generic
// version parser. Anything after the patch number (a pre-release or build
// suffix) is ignored.
func ParseVersion(s string) (Version, error) {
	v, err := version.ParseGeneric(s)
	if err != nil || len(v.Components()) > 3 {
		return Version{}, fmt.Errorf("kubernetes version %q: want <major>.<minor>[.<patch>], e.g. 1.33", s)
	}
	if v.Major() < 1 {
		return Version{}, fmt.Errorf("kubernetes version %q: major version must be at least 1", s)
	}
	return Version{Major: int(v.Major()), Minor: int(v.Minor())}, nil
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
