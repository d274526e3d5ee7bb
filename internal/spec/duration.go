package spec

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Duration is the module's one duration type in spec files, check
// configs, plans and the journal: it reads a number of seconds (30, 0.5,
// "7") or a Go duration string ("30s", "5m", "500ms") and writes a
// duration string. A negative one reads as such: the validator of the
// field it is in refuses it, naming the field.
type Duration time.Duration

// D returns the time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// String formats like time.Duration.
func (d Duration) String() string { return time.Duration(d).String() }

// MarshalText writes d as a Go duration string.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText reads seconds or a Go duration string.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := parse(string(b))
	if err != nil {
		return fmt.Errorf("duration %q: %w; use e.g. \"30s\", \"5m\" or a number of seconds", b, err)
	}
	*d = Duration(v)
	return nil
}

// MarshalJSON writes d as a JSON string such as "5s".
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

// UnmarshalJSON reads a JSON number of seconds or a duration string.
func (d *Duration) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		b = []byte(s)
	}
	return d.UnmarshalText(b)
}

// ParseSeconds parses a number of seconds ("5", "0.5") or a Go duration
// ("500ms"). Negative values are rejected.
func ParseSeconds(s string) (time.Duration, error) {
	d, err := parse(s)
	if err == nil && d < 0 {
		return 0, errors.New("must not be negative")
	}
	return d, err
}

func parse(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	var d time.Duration
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		if math.Abs(f) > float64(1<<62)/float64(time.Second) {
			return 0, errors.New("too large")
		}
		d = time.Duration(f * float64(time.Second))
	} else {
		pd, perr := time.ParseDuration(s)
		if perr != nil {
			return 0, errors.New("not a number of seconds or a duration")
		}
		d = pd
	}
	return d, nil
}
