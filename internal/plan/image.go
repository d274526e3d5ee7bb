package plan

import (
	"strings"

	"github.com/distribution/reference"
)

// ValidateImage checks an image reference the way a container runtime
// parses it (github.com/distribution/reference, normalized as docker
// reads `nginx` as docker.io/library/nginx).
func ValidateImage(image string) error {
	if image == "" {
		return invalid("no image given (pass --image or set image: in the spec file)")
	}
	ref, err := reference.ParseNormalizedNamed(image)
	if err != nil {
		return invalid("image %q is not a valid image reference: %v (want e.g. registry.example.com/team/app:1.2.3 or app@sha256:…; names are lower-case)", image, err)
	}
	// The library reads a first segment with capitals as a registry host
	// (host names ignore case); such a host is a typo far more often than
	// a registry, so it is refused.
	if host := reference.Domain(ref); host != strings.ToLower(host) {
		return invalid("image %q is not a valid image reference: repository names are lower-case (%s would be read as a registry host)", image, host)
	}
	return nil
}
