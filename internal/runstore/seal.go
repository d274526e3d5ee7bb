package runstore

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/bluegreen/bluegreen/internal/redact"
)

// refPrefix marks a string moved out of the record into the run's Secret;
// the rest is the Secret's data key.
const refPrefix = "bluegreen.dev/secret:"

// freeText are the record's fields of prose (errors, reasons, plans' change
// lines). A secret value echoed there is masked, not moved: nothing reads
// them back.
var freeText = map[string]bool{
	"error": true, "reason": true, "description": true, "kept": true, "change": true,
	"detail": true, "message": true,
}

// sealer moves the sensitive values of a decoded JSON record into values,
// leaving references: every env value (an env map's values, and the value
// of each {"name", "value"} entry of a container's env), every header
// value, and every URL-valued field (url, previewURL, webhookURL…). Then it
// masks, in the free-text fields, the values that are secrets by the rules
// of the CLI's output (secret-looking env names, env values holding a URL,
// headers, webhook URLs, URL credentials).
type sealer struct {
	values  map[string]string // data key → value
	secrets *redact.Secrets
}

func newSealer() *sealer { return &sealer{values: map[string]string{}, secrets: redact.NewSecrets()} }

// seal returns v with the sensitive values replaced by references.
func (s *sealer) seal(v any) any {
	out := s.move(v, "")
	return s.mask(out, "")
}

func (s *sealer) ref(value string) string {
	sum := sha256.Sum256([]byte(value))
	key := hex.EncodeToString(sum[:8])
	s.values[key] = value
	return refPrefix + key
}

// envValue moves an env value, masking it in prose when it is a secret.
func (s *sealer) envValue(name, value string) string {
	if redact.IsSecretKey(name) || strings.Contains(value, "://") {
		s.secrets.Add(value)
	}
	return s.ref(value)
}

func isURLKey(key string) bool {
	return key == "url" || strings.HasSuffix(key, "URL") || strings.HasSuffix(key, "Url")
}

func (s *sealer) move(v any, key string) any {
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		name, named := t["name"].(string)
		for k, c := range t {
			switch str, isStr := c.(string); {
			case !isStr || str == "":
				out[k] = s.move(c, k)
			case named && k == "value":
				out[k] = s.envValue(name, str) // a container's env entry
			case key == "env" && !named: // an env map; a list's entries are {name, value}
				out[k] = s.envValue(k, str)
			case key == "headers":
				s.secrets.Add(str)
				out[k] = s.ref(str)
			case isURLKey(k):
				if key == "webhook" || strings.Contains(strings.ToLower(k), "webhook") {
					s.secrets.Add(str)
				} else {
					s.secrets.AddURL(str)
				}
				out[k] = s.ref(str)
			default:
				out[k] = s.move(c, k)
			}
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, c := range t {
			out[i] = s.move(c, key)
		}
		return out
	}
	return v
}

func (s *sealer) mask(v any, key string) any {
	switch t := v.(type) {
	case map[string]any:
		for k, c := range t {
			t[k] = s.mask(c, k)
		}
		return t
	case []any:
		for i, c := range t {
			t[i] = s.mask(c, key)
		}
		return t
	case string:
		if freeText[key] {
			return s.secrets.String(t)
		}
	}
	return v
}

// unseal puts the values back, from data (the run's Secret). A reference
// whose value is missing is an error naming it.
func unseal(v any, data map[string][]byte) (any, error) {
	switch t := v.(type) {
	case map[string]any:
		for k, c := range t {
			u, err := unseal(c, data)
			if err != nil {
				return nil, err
			}
			t[k] = u
		}
		return t, nil
	case []any:
		for i, c := range t {
			u, err := unseal(c, data)
			if err != nil {
				return nil, err
			}
			t[i] = u
		}
		return t, nil
	case string:
		key, ok := strings.CutPrefix(t, refPrefix)
		if !ok {
			return t, nil
		}
		val, ok := data[key]
		if !ok {
			return nil, fmt.Errorf("the record refers to secret value %s, which its Secret does not hold", key)
		}
		return string(val), nil
	}
	return v, nil
}

// hasRefs reports whether a record holds any reference.
func hasRefs(v any) bool {
	switch t := v.(type) {
	case map[string]any:
		for _, c := range t {
			if hasRefs(c) {
				return true
			}
		}
	case []any:
		for _, c := range t {
			if hasRefs(c) {
				return true
			}
		}
	case string:
		return strings.HasPrefix(t, refPrefix)
	}
	return false
}
