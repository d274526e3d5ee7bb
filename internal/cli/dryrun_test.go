package cli

import (
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

// --dry-run reads as kubectl's: plain and =client print, =none acts,
// =server is refused for now with what to use instead, anything else is
// named.
func TestDryRunFlag(t *testing.T) {
	for _, tc := range []struct {
		args    []string
		want    bool
		wantErr string
	}{
		{nil, false, ""},
		{[]string{"--dry-run"}, true, ""},
		{[]string{"--dry-run=client"}, true, ""},
		{[]string{"--dry-run=none"}, false, ""},
		{[]string{"--dry-run=true"}, true, ""},
		{[]string{"--dry-run", "shop"}, true, ""},
		{[]string{"--dry-run=server"}, false, "use --dry-run=client"},
		{[]string{"--dry-run=maybe"}, false, `"maybe": want none, client or server`},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			var dry bool
			fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
			dryRunVar(fs, &dry, "print")
			err := fs.Parse(tc.args)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || dry != tc.want {
				t.Fatalf("dry = %v, err %v; want %v", dry, err, tc.want)
			}
			if len(tc.args) == 2 && fs.Arg(0) != "shop" {
				t.Fatalf("the argument after a plain --dry-run was taken as its value: args %v", fs.Args())
			}
		})
	}
}
