package spec

import (
	"strings"
	"testing"
	"time"
)

// One strict decoder for YAML and JSON: unknown and repeated fields are
// refused with the section named and without the library's prefixes;
// durations read as seconds or strings.
func TestDecodeStrict(t *testing.T) {
	type section struct {
		Name    string   `json:"name"`
		Timeout Duration `json:"timeout"`
	}
	for _, tc := range []struct {
		name, in string
		want     section
		wantErr  string
	}{
		{"yaml", "name: gw\ntimeout: 30s\n", section{"gw", Duration(30 * time.Second)}, ""},
		{"json", `{"name":"gw","timeout":1.5}`, section{"gw", Duration(1500 * time.Millisecond)}, ""},
		{"seconds as a string", "timeout: \"7\"\n", section{Timeout: Duration(7 * time.Second)}, ""},
		{"negative reads, for the validator to name", "timeout: -2s\n", section{Timeout: Duration(-2 * time.Second)}, ""},
		{"unknown field", "name: gw\ntimeuot: 30s\n", section{}, `gateway: json: unknown field "timeuot"`},
		{"repeated field", "name: a\nname: b\n", section{}, `gateway: yaml: unmarshal errors:`},
		{"bad duration", "timeout: soon\n", section{}, `gateway: duration "soon": not a number of seconds or a duration`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got section
			err := DecodeStrict("gateway", []byte(tc.in), &got)
			if tc.wantErr != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tc.wantErr) {
					t.Fatalf("err %v, want it to start with %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
}
