package spec

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
)

// DecodeStrict decodes a JSON section into v, refusing fields v does not
// have: a misspelt field would otherwise be ignored silently. section names
// the section in the error, e.g. "dns".
func DecodeStrict(section string, data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%s: %w", section, err)
	}
	return nil
}

var dnsName = regexp.MustCompile(`^([a-zA-Z0-9_]([a-zA-Z0-9-]*[a-zA-Z0-9])?\.)+[a-zA-Z]{2,}\.?$`)

// IsDNSName reports whether s is a fully qualified DNS name such as
// "app.example.com" (a trailing dot is allowed).
func IsDNSName(s string) bool { return dnsName.MatchString(s) }
