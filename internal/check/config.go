package check

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/bluegreen/bluegreen/internal/spec"
)

// Environment variables read by DefaultsFromEnv.
const (
	EnvRetries      = "HEALTH_CHECK_RETRIES"
	EnvInterval     = "HEALTH_CHECK_INTERVAL"
	EnvSmokeTimeout = "SMOKE_TEST_TIMEOUT"
)

// Built-in defaults used when the environment does not set a value: the
// release runbooks' own (10 health-check attempts, 5 s apart, a 60 s smoke
// test).
const (
	DefaultRetries  = 10
	DefaultInterval = 5 * time.Second
	// DefaultTimeout bounds a whole smoke test (SMOKE_TEST_TIMEOUT).
	DefaultTimeout = 60 * time.Second
	// DefaultAttemptTimeout bounds one HTTP attempt and one webhook request.
	DefaultAttemptTimeout = 30 * time.Second
)

// Defaults are the values a check config falls back to for fields left zero.
type Defaults struct {
	// Retries is the number of attempts of an HTTP check (HEALTH_CHECK_RETRIES).
	Retries int
	// Interval is the wait between HTTP attempts (HEALTH_CHECK_INTERVAL).
	Interval time.Duration
	// Timeout is the total time of a Smoke command (SMOKE_TEST_TIMEOUT).
	Timeout time.Duration
	// AttemptTimeout bounds each attempt of an HTTP check and a Webhook
	// request. It is not SMOKE_TEST_TIMEOUT: a smoke test's budget is not a
	// sensible bound for one health request.
	AttemptTimeout time.Duration
}

// BuiltinDefaults returns the defaults used when no environment variable is
// set: 10 retries, 5s interval, 60s smoke test, 30s per HTTP attempt.
func BuiltinDefaults() Defaults {
	return Defaults{Retries: DefaultRetries, Interval: DefaultInterval, Timeout: DefaultTimeout, AttemptTimeout: DefaultAttemptTimeout}
}

// DefaultsFromEnv reads HEALTH_CHECK_RETRIES, HEALTH_CHECK_INTERVAL and
// SMOKE_TEST_TIMEOUT through lookup (os.LookupEnv when nil). Unset or empty
// variables keep the built-in defaults; an invalid value is an error naming
// the variable.
func DefaultsFromEnv(lookup func(string) (string, bool)) (Defaults, error) {
	if lookup == nil {
		lookup = os.LookupEnv
	}
	d := BuiltinDefaults()
	if v, ok := lookup(EnvRetries); ok && strings.TrimSpace(v) != "" {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < 1 {
			return d, fmt.Errorf("%s=%q: want a whole number of attempts of at least 1, e.g. %d", EnvRetries, v, DefaultRetries)
		}
		d.Retries = n
	}
	if v, ok := lookup(EnvInterval); ok && strings.TrimSpace(v) != "" {
		iv, err := spec.ParseSeconds(v)
		if err != nil {
			return d, fmt.Errorf("%s=%q: %w; want seconds such as 5 or a duration such as 500ms", EnvInterval, v, err)
		}
		d.Interval = iv
	}
	if v, ok := lookup(EnvSmokeTimeout); ok && strings.TrimSpace(v) != "" {
		to, err := spec.ParseSeconds(v)
		if err == nil && to == 0 {
			err = errors.New("must be more than zero")
		}
		if err != nil {
			return d, fmt.Errorf("%s=%q: %w; want seconds such as 60 or a duration such as 2m", EnvSmokeTimeout, v, err)
		}
		d.Timeout = to
	}
	return d, nil
}

// Duration is the module's duration type (see spec.Duration): seconds or
// a duration string, never negative.
type Duration = spec.Duration

// Spec is one entry of a checks spec file: a name and exactly one of HTTP,
// Smoke or Webhook.
type Spec struct {
	Name    string         `json:"name" yaml:"name"`
	HTTP    *HTTPConfig    `json:"http,omitempty" yaml:"http,omitempty"`
	Smoke   *SmokeConfig   `json:"smoke,omitempty" yaml:"smoke,omitempty"`
	Webhook *WebhookConfig `json:"webhook,omitempty" yaml:"webhook,omitempty"`
}

// Validate checks that the spec has a name and exactly one valid kind.
func (s Spec) Validate() error {
	if strings.TrimSpace(s.Name) == "" {
		return errors.New("check spec: name is required; give every check a short name such as \"healthz\"")
	}
	var set []string
	if s.HTTP != nil {
		set = append(set, "http")
	}
	if s.Smoke != nil {
		set = append(set, "smoke")
	}
	if s.Webhook != nil {
		set = append(set, "webhook")
	}
	switch len(set) {
	case 0:
		return fmt.Errorf("check %q: none of http, smoke, webhook is set; set exactly one", s.Name)
	case 1:
	default:
		return fmt.Errorf("check %q: %s are all set; keep exactly one of them", s.Name, strings.Join(set, ", "))
	}
	var err error
	switch {
	case s.HTTP != nil:
		err = s.HTTP.Validate()
	case s.Smoke != nil:
		err = s.Smoke.Validate()
	default:
		err = s.Webhook.Validate()
	}
	if err != nil {
		return fmt.Errorf("check %q: %s: %w", s.Name, set[0], err)
	}
	return nil
}

// Build validates spec and returns the check it describes, with d filling in
// the fields the spec leaves zero.
func Build(spec Spec, d Defaults, opts ...Option) (Check, error) {
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	switch {
	case spec.HTTP != nil:
		return NewHTTP(spec.Name, *spec.HTTP, d, opts...)
	case spec.Smoke != nil:
		return NewSmoke(spec.Name, *spec.Smoke, d, opts...)
	default:
		return NewWebhook(spec.Name, *spec.Webhook, d, opts...)
	}
}

// resolved returns d with unusable fields replaced by the built-in defaults.
// A zero Defaults means "use the built-in defaults"; a zero Interval in an
// otherwise set Defaults is kept (HEALTH_CHECK_INTERVAL=0 means no wait).
func (d Defaults) resolved() Defaults {
	if d == (Defaults{}) {
		return BuiltinDefaults()
	}
	if d.Retries < 1 {
		d.Retries = DefaultRetries
	}
	if d.Interval < 0 {
		d.Interval = DefaultInterval
	}
	if d.Timeout <= 0 {
		d.Timeout = DefaultTimeout
	}
	if d.AttemptTimeout <= 0 {
		d.AttemptTimeout = DefaultAttemptTimeout
	}
	return d
}

// pick returns v unless it is zero, else def.
func pick[T comparable](v, def T) T {
	var zero T
	if v != zero {
		return v
	}
	return def
}
