package spec

import (
	"regexp"
	"strings"
	"sync"

	"sigs.k8s.io/yaml"
)

// DecodeStrict is the module's one strict decoder of spec files and their
// sections: it reads YAML or JSON into v with sigs.k8s.io/yaml's
// UnmarshalStrict, refusing fields v does not have and fields given twice
// (either would otherwise be ignored silently). section names what was
// read in the error, e.g. "dns" or "spec file payments.yaml".
func DecodeStrict(section string, data []byte, v any) error {
	if err := yaml.UnmarshalStrict(data, v); err != nil {
		msg := err.Error()
		for _, p := range []string{"error converting YAML to JSON: ", "error unmarshaling JSON: ", "while decoding JSON: "} {
			msg = strings.TrimPrefix(msg, p)
		}
		return &decodeError{msg: section + ": " + msg, err: err}
	}
	return nil
}

// decodeError is a decoding error without the YAML library's layers of
// prefixes, which say nothing to the person fixing the file.
type decodeError struct {
	msg string
	err error
}

func (e *decodeError) Error() string { return e.msg }
func (e *decodeError) Unwrap() error { return e.err }

var dnsName = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^([a-zA-Z0-9_]([a-zA-Z0-9-]*[a-zA-Z0-9])?\.)+[a-zA-Z]{2,}\.?$`)
})

// IsDNSName reports whether s is a fully qualified DNS name such as
// "app.example.com" (a trailing dot is allowed).
func IsDNSName(s string) bool { return dnsName().MatchString(s) }
