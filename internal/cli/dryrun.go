package cli

import (
	"context"
	"fmt"

	"github.com/spf13/pflag"

	"github.com/bluegreen/bluegreen/internal/engine"
	"github.com/bluegreen/bluegreen/internal/journal"
)

// dryRunVar binds --dry-run as kubectl spells it: plain --dry-run and
// --dry-run=client print what would change and change nothing (into
// *p); --dry-run=none acts. --dry-run=server is refused with
// noServer, which says why the command cannot offer it.
func dryRunVar(fs *pflag.FlagSet, p *bool, usage, noServer string) {
	f := fs.VarPF(&dryRunValue{p: p, noServer: noServer}, "dry-run", "", usage+" (--dry-run or --dry-run=client; none acts)")
	f.NoOptDefVal = "client"
}

// Why a command does not offer --dry-run=server.
const (
	noServerInit = "init's later steps act on the objects its first steps create, which a server dry run does not keep (deploy and namespace deploy offer it)"
	noServerUndo = "a rollback's undos put back what its run recorded, which needs the run's own steps kept (deploy and namespace deploy offer it)"
)

// dryRunServerVar is dryRunVar for a command that also offers
// --dry-run=server: it sets *p (nothing is changed) and *server (every
// write is sent to the API server with dryRun=All).
func dryRunServerVar(fs *pflag.FlagSet, p, server *bool, usage string) {
	f := fs.VarPF(&dryRunValue{p: p, server: server}, "dry-run", "",
		usage+" (--dry-run or --dry-run=client; =server also sends every write to the API server with dryRun, for its admission and RBAC; none acts)")
	f.NoOptDefVal = "client"
}

type dryRunValue struct {
	p, server *bool
	noServer  string
}

func (v *dryRunValue) String() string {
	switch {
	case v.server != nil && *v.server:
		return "server"
	case v.p != nil && *v.p:
		return "client"
	}
	return "none"
}

func (v *dryRunValue) Set(s string) error {
	server := false
	switch s {
	case "client", "true":
		*v.p = true
	case "none", "false":
		*v.p = false
	case "server":
		if v.server == nil {
			return fmt.Errorf("server dry run is not offered here: %s; use --dry-run=client, which prints every change from what it reads", v.noServer)
		}
		*v.p, server = true, true
	default:
		return fmt.Errorf("%q: want none, client or server", s)
	}
	if v.server != nil {
		*v.server = server
	}
	return nil
}

func (v *dryRunValue) Type() string { return "mode" }

// serverDryRun prints a planned run, then sends each of its writes
// through acts, built over clients that mark every write dryRun=All (see
// kube.Clients.ServerDryRun), and reports what the API server said of
// each. It fails when the server refused any write; it changes nothing
// either way.
func (g *Global) serverDryRun(ctx context.Context, r *journal.Run, clusterName string, acts map[string]engine.Action) error {
	res := engine.DryRun(ctx, acts, r)
	var refused []engine.DryResult
	sent := 0
	for _, x := range res {
		if x.Sent {
			sent++
		}
		if x.Err != nil {
			refused = append(refused, x)
		}
	}
	if g.structured() {
		if err := g.emit("ServerDryRun", r.App, serverDryRunView{Plan: planView(r), Results: dryResultViews(res)}); err != nil {
			return err
		}
	} else {
		if err := g.printPlan(r); err != nil {
			return err
		}
		fmt.Fprintf(g.out, "Server dry run on %s: each write sent with dryRun=All, for admission and RBAC; none kept.\n", clusterName)
		w := nameWidth(r)
		for i, x := range res {
			fmt.Fprintf(g.out, "%2d. %-*s %s\n", i+1, w, x.Step, dryResultText(x))
		}
	}
	if len(refused) > 0 {
		return fmt.Errorf("server dry run: %d of the %d steps sent failed, first %s: %s; nothing was changed",
			len(refused), sent, refused[0].Step, redactErr(refused[0].Err))
	}
	g.printf("Server dry run: the API server admitted the writes of all %d steps sent; nothing was changed.\n", sent)
	return nil
}

func dryResultText(x engine.DryResult) string {
	switch {
	case x.Err != nil:
		return "REFUSED: " + redactErr(x.Err)
	case x.Sent:
		return "admitted"
	}
	return "not sent: " + redactText(x.Note)
}

type serverDryRunView struct {
	Plan    runSummary      `json:"plan"`
	Results []dryResultView `json:"results"`
}

type dryResultView struct {
	Step    string `json:"step"`
	Kind    string `json:"kind"`
	Result  string `json:"result"` // admitted, refused, not-sent
	Message string `json:"message,omitempty"`
}

func dryResultViews(res []engine.DryResult) []dryResultView {
	out := make([]dryResultView, 0, len(res))
	for _, x := range res {
		v := dryResultView{Step: x.Step, Kind: x.Kind, Result: "not-sent", Message: redactText(x.Note)}
		switch {
		case x.Err != nil:
			v.Result, v.Message = "refused", redactErr(x.Err)
		case x.Sent:
			v.Result, v.Message = "admitted", ""
		}
		out = append(out, v)
	}
	return out
}
