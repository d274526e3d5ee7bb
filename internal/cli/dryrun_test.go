package cli

import (
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

// --dry-run reads as kubectl's: plain and =client print, =none acts,
// =server also sends the writes where the command offers it and is refused
// with the reason where it does not, anything else is named.
func TestDryRunFlag(t *testing.T) {
	for _, tc := range []struct {
		args       []string
		offered    bool
		want       bool
		wantServer bool
		wantErr    string
	}{
		{nil, true, false, false, ""},
		{[]string{"--dry-run"}, true, true, false, ""},
		{[]string{"--dry-run=client"}, false, true, false, ""},
		{[]string{"--dry-run=none"}, true, false, false, ""},
		{[]string{"--dry-run=true"}, false, true, false, ""},
		{[]string{"--dry-run", "shop"}, false, true, false, ""},
		{[]string{"--dry-run=server"}, true, true, true, ""},
		{[]string{"--dry-run=server", "--dry-run=client"}, true, true, false, ""},
		{[]string{"--dry-run=server"}, false, false, false, "not offered here: undos need their steps kept; use --dry-run=client"},
		{[]string{"--dry-run=maybe"}, true, false, false, `"maybe": want none, client or server`},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			var dry, server bool
			fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
			if tc.offered {
				dryRunServerVar(fs, &dry, &server, "print")
			} else {
				dryRunVar(fs, &dry, "print", "undos need their steps kept")
			}
			err := fs.Parse(tc.args)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || dry != tc.want || server != tc.wantServer {
				t.Fatalf("dry = %v server = %v, err %v; want %v, %v", dry, server, err, tc.want, tc.wantServer)
			}
			if len(tc.args) == 2 && tc.args[1] == "shop" && fs.Arg(0) != "shop" {
				t.Fatalf("the argument after a plain --dry-run was taken as its value: args %v", fs.Args())
			}
		})
	}
}
