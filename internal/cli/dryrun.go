package cli

import (
	"errors"
	"fmt"

	"github.com/spf13/pflag"
)

// dryRunVar binds --dry-run as kubectl spells it: plain --dry-run and
// --dry-run=client print what would change and change nothing (into *p);
// --dry-run=none acts. --dry-run=server, every write checked by the API
// server's admission and RBAC and none kept, is refused until it exists.
func dryRunVar(fs *pflag.FlagSet, p *bool, usage string) {
	f := fs.VarPF(&dryRunValue{p}, "dry-run", "", usage+" (--dry-run or --dry-run=client; none acts)")
	f.NoOptDefVal = "client"
}

type dryRunValue struct{ p *bool }

func (v *dryRunValue) String() string {
	if v.p != nil && *v.p {
		return "client"
	}
	return "none"
}

func (v *dryRunValue) Set(s string) error {
	switch s {
	case "client", "true":
		*v.p = true
	case "none", "false":
		*v.p = false
	case "server":
		return errors.New("server dry run (each write sent to the API server with dryRun, for its admission and RBAC) is not supported yet: use --dry-run=client, which prints every change from what it reads")
	default:
		return fmt.Errorf("%q: want none, client or server", s)
	}
	return nil
}

func (v *dryRunValue) Type() string { return "mode" }
