package plan

import (
	"regexp"
	"strings"
)

// The grammar of github.com/distribution/reference, as used by every
// container runtime: [domain[:port]/]path-component(/path-component)*[:tag][@digest].
var imageRef = func() *regexp.Regexp {
	alnum := `[a-z0-9]+`
	sep := `(?:[._]|__|[-]+)`
	component := alnum + `(?:` + sep + alnum + `)*`
	domainComponent := `(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])`
	domain := `(?:` + domainComponent + `(?:\.` + domainComponent + `)*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?`
	name := `(?:` + domain + `/)?` + component + `(?:/` + component + `)*`
	tag := `[\w][\w.-]{0,127}`
	digest := `[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}`
	return regexp.MustCompile(`^` + name + `(?::` + tag + `)?(?:@` + digest + `)?$`)
}()

// ValidateImage checks an image reference the way a container runtime
// would parse it.
func ValidateImage(image string) error {
	if image == "" {
		return invalid("no image given (pass --image or set image: in the spec file)")
	}
	if len(image) > 255*2 || !imageRef.MatchString(image) {
		return invalid("image %q is not a valid image reference (want e.g. registry.example.com/team/app:1.2.3 or app@sha256:…; names are lower-case)", image)
	}
	// Like docker, read the first segment as a registry only when it looks
	// like one; otherwise it is a (lower-case) repository path component.
	if first, _, found := strings.Cut(image, "/"); found && !strings.ContainsAny(first, ".:") && first != "localhost" && first != strings.ToLower(first) {
		return invalid("image %q is not a valid image reference: repository names are lower-case", image)
	}
	return nil
}
