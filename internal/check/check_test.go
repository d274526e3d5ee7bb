package check

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestDefaultsFromEnv(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		want    Defaults
		wantErr string
	}{
		{name: "unset", env: nil, want: Defaults{Retries: 10, Interval: 5 * time.Second, Timeout: 60 * time.Second, AttemptTimeout: DefaultAttemptTimeout}},
		{name: "empty values", env: map[string]string{EnvRetries: "", EnvInterval: " "}, want: Defaults{Retries: 10, Interval: 5 * time.Second, Timeout: 60 * time.Second, AttemptTimeout: DefaultAttemptTimeout}},
		{name: "seconds", env: map[string]string{EnvRetries: "3", EnvInterval: "2", EnvSmokeTimeout: "10"}, want: Defaults{Retries: 3, Interval: 2 * time.Second, Timeout: 10 * time.Second, AttemptTimeout: DefaultAttemptTimeout}},
		{name: "durations", env: map[string]string{EnvInterval: "500ms", EnvSmokeTimeout: "2m"}, want: Defaults{Retries: 10, Interval: 500 * time.Millisecond, Timeout: 2 * time.Minute, AttemptTimeout: DefaultAttemptTimeout}},
		{name: "fractional", env: map[string]string{EnvInterval: "0.25"}, want: Defaults{Retries: 10, Interval: 250 * time.Millisecond, Timeout: 60 * time.Second, AttemptTimeout: DefaultAttemptTimeout}},
		{name: "zero interval", env: map[string]string{EnvInterval: "0"}, want: Defaults{Retries: 10, Interval: 0, Timeout: 60 * time.Second, AttemptTimeout: DefaultAttemptTimeout}},
		{name: "bad retries", env: map[string]string{EnvRetries: "five"}, wantErr: "HEALTH_CHECK_RETRIES=\"five\""},
		{name: "zero retries", env: map[string]string{EnvRetries: "0"}, wantErr: "HEALTH_CHECK_RETRIES"},
		{name: "bad interval", env: map[string]string{EnvInterval: "soon"}, wantErr: "HEALTH_CHECK_INTERVAL=\"soon\""},
		{name: "negative interval", env: map[string]string{EnvInterval: "-1"}, wantErr: "must not be negative"},
		{name: "zero timeout", env: map[string]string{EnvSmokeTimeout: "0"}, wantErr: "SMOKE_TEST_TIMEOUT"},
		{name: "bad timeout", env: map[string]string{EnvSmokeTimeout: "1x"}, wantErr: "SMOKE_TEST_TIMEOUT=\"1x\""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DefaultsFromEnv(func(k string) (string, bool) {
				v, ok := tt.env[k]
				return v, ok
			})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestDurationJSON(t *testing.T) {
	tests := []struct {
		in      string
		want    time.Duration
		wantErr bool
	}{
		{`"2s"`, 2 * time.Second, false},
		{`"500ms"`, 500 * time.Millisecond, false},
		{`3`, 3 * time.Second, false},
		{`0.5`, 500 * time.Millisecond, false},
		{`"7"`, 7 * time.Second, false},
		{`"soon"`, 0, true},
		{`-1`, -time.Second, false}, // refused by the validator, naming the field
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			var d Duration
			err := json.Unmarshal([]byte(tt.in), &d)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if d.D() != tt.want {
				t.Errorf("got %s, want %s", d, tt.want)
			}
		})
	}
	b, err := json.Marshal(HTTPConfig{URL: "/x", Interval: Duration(1500 * time.Millisecond)})
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"url":"/x","interval":"1.5s"}`; string(b) != want {
		t.Errorf("marshal = %s, want %s", b, want)
	}
}

func TestSpecValidate(t *testing.T) {
	tests := []struct {
		name    string
		spec    Spec
		wantErr string
	}{
		{"http ok", Spec{Name: "h", HTTP: &HTTPConfig{URL: "/healthz"}}, ""},
		{"smoke ok", Spec{Name: "s", Smoke: &SmokeConfig{Script: "true"}}, ""},
		{"webhook ok", Spec{Name: "w", Webhook: &WebhookConfig{URL: "https://gate.example.com/x"}}, ""},
		{"no name", Spec{HTTP: &HTTPConfig{URL: "/x"}}, "name is required"},
		{"none set", Spec{Name: "n"}, "none of http, smoke, webhook"},
		{"two set", Spec{Name: "n", HTTP: &HTTPConfig{URL: "/x"}, Smoke: &SmokeConfig{Script: "true"}}, "http, smoke are all set"},
		{"three set", Spec{Name: "n", HTTP: &HTTPConfig{URL: "/x"}, Smoke: &SmokeConfig{Script: "true"}, Webhook: &WebhookConfig{URL: "http://h"}}, "http, smoke, webhook are all set"},
		{"http no url", Spec{Name: "n", HTTP: &HTTPConfig{}}, `check "n": http: url is required`},
		{"http relative", Spec{Name: "n", HTTP: &HTTPConfig{URL: "healthz"}}, "not absolute"},
		{"http scheme", Spec{Name: "n", HTTP: &HTTPConfig{URL: "ftp://h/x"}}, `scheme "ftp"`},
		{"http status", Spec{Name: "n", HTTP: &HTTPConfig{URL: "/x", ExpectStatus: 42}}, "expectStatus 42"},
		{"http method", Spec{Name: "n", HTTP: &HTTPConfig{URL: "/x", Method: "G ET"}}, "method"},
		{"http retries", Spec{Name: "n", HTTP: &HTTPConfig{URL: "/x", Retries: -1}}, "retries -1"},
		{"http header", Spec{Name: "n", HTTP: &HTTPConfig{URL: "/x", Headers: map[string]string{"Bad Name": "v"}}}, "headers"},
		{"smoke both", Spec{Name: "n", Smoke: &SmokeConfig{Script: "x", Command: []string{"y"}}}, "command and script are both set"},
		{"smoke none", Spec{Name: "n", Smoke: &SmokeConfig{}}, "command or script is required"},
		{"smoke timeout", Spec{Name: "n", Smoke: &SmokeConfig{Script: "x", Timeout: -1}}, "timeout"},
		{"webhook path", Spec{Name: "n", Webhook: &WebhookConfig{URL: "/hook"}}, "not absolute"},
		{"webhook secret hidden", Spec{Name: "n", Webhook: &WebhookConfig{URL: "ftp://hooks.example.com/hooks/s3cr3tpath"}}, "hooks/***"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.spec.Validate()
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want containing %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), "s3cr3tpath") {
				t.Errorf("error leaks secret: %v", err)
			}
		})
	}
}

func TestBuildFromJSON(t *testing.T) {
	const file = `[
	  {"name": "healthz", "http": {"url": "/healthz", "expectStatus": 200, "bodyContains": "ok", "retries": 2, "interval": "10ms", "timeout": 1}},
	  {"name": "smoke", "smoke": {"script": "exit 0", "timeout": "5s"}},
	  {"name": "gate", "webhook": {"url": "https://gate.example.com/hooks/abc", "headers": {"Authorization": "Bearer x"}}}
	]`
	var specs []Spec
	if err := json.Unmarshal([]byte(file), &specs); err != nil {
		t.Fatal(err)
	}
	wantTypes := []string{"*check.HTTP", "*check.Smoke", "*check.Webhook"}
	for i, s := range specs {
		c, err := Build(s, Defaults{})
		if err != nil {
			t.Fatalf("Build(%s): %v", s.Name, err)
		}
		if got := typeName(c); got != wantTypes[i] || c.Name() != s.Name {
			t.Errorf("Build(%s) = %s named %q", s.Name, got, c.Name())
		}
	}
	h := mustCheck[*HTTP](t, specs[0])
	if h.retries != 2 || h.interval != 10*time.Millisecond || h.timeout != time.Second {
		t.Errorf("http config not applied: %+v", h)
	}
	if _, err := Build(Spec{Name: "bad"}, Defaults{}); err == nil {
		t.Errorf("Build of an empty spec succeeded")
	}
}

func mustCheck[T Check](t *testing.T, s Spec) T {
	t.Helper()
	c, err := Build(s, Defaults{})
	if err != nil {
		t.Fatal(err)
	}
	return c.(T)
}

func typeName(c Check) string {
	switch c.(type) {
	case *HTTP:
		return "*check.HTTP"
	case *Smoke:
		return "*check.Smoke"
	case *Webhook:
		return "*check.Webhook"
	}
	return "?"
}

func TestRunAll(t *testing.T) {
	pass := func(name string) Check {
		return CheckFunc{CheckName: name, F: func(context.Context, Target) (Result, error) {
			return Result{Passed: true}, nil
		}}
	}
	fail := CheckFunc{CheckName: "fail", F: func(context.Context, Target) (Result, error) {
		return Result{Detail: "nope"}, nil
	}}
	boom := errors.New("boom")
	broken := CheckFunc{CheckName: "broken", F: func(context.Context, Target) (Result, error) {
		return Result{}, boom
	}}
	tests := []struct {
		name      string
		checks    []Check
		wantNames []string
		wantPass  bool
		wantErr   error
	}{
		{"all pass", []Check{pass("a"), pass("b")}, []string{"a", "b"}, true, nil},
		{"stops at failure", []Check{pass("a"), fail, pass("c")}, []string{"a", "fail"}, false, nil},
		{"stops at error", []Check{broken, pass("b")}, []string{"broken"}, false, boom},
		{"empty", nil, nil, false, nil},
		{"nil func", []Check{CheckFunc{CheckName: "nil"}}, []string{"nil"}, false, errAny},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := RunAll(context.Background(), tt.checks, Target{App: "a"})
			switch {
			case errors.Is(tt.wantErr, errAny) && err == nil:
				t.Errorf("want an error")
			case tt.wantErr != nil && !errors.Is(tt.wantErr, errAny) && !errors.Is(err, tt.wantErr):
				t.Errorf("err = %v, want %v", err, tt.wantErr)
			case tt.wantErr == nil && err != nil:
				t.Errorf("unexpected err %v", err)
			}
			var names []string
			for _, r := range res {
				names = append(names, r.Name)
				if err == nil && r.Attempts != 1 {
					t.Errorf("%s: Attempts = %d, want 1", r.Name, r.Attempts)
				}
			}
			if strings.Join(names, ",") != strings.Join(tt.wantNames, ",") {
				t.Errorf("ran %v, want %v", names, tt.wantNames)
			}
			if Passed(res) != tt.wantPass {
				t.Errorf("Passed = %v, want %v", Passed(res), tt.wantPass)
			}
		})
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := RunAll(ctx, []Check{pass("a")}, Target{}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled RunAll err = %v", err)
	}
}

// errAny marks a test case that wants some error.
var errAny = errors.New("any error")
