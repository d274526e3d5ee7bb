package cli

import (
	"log/slog"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/bluegreen/bluegreen/internal/journal"
)

// appCommands take an app of the namespace as their argument.
var appCommands = []string{"status", "deploy", "plan", "promote", "rollback", "abort", "resume", "unlock"}

// specExtensions are the files a -f flag completes to.
var specExtensions = []string{"yaml", "yml", "json"}

// wireCompletion completes app names (from the runs recorded in the
// namespace, as `bluegreen list` reads them) and spec files.
func wireCompletion(g *Global, root *cobra.Command) {
	for _, c := range root.Commands() {
		if slices.Contains(appCommands, c.Name()) {
			c.ValidArgsFunction = func(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
				if len(args) > 0 {
					return nil, cobra.ShellCompDirectiveNoFileComp
				}
				return g.completeApps(cmd, toComplete)
			}
		}
	}
	var walk func(*cobra.Command)
	walk = func(c *cobra.Command) {
		for _, name := range []string{"file", "filename"} {
			if c.Flags().Lookup(name) != nil {
				_ = c.MarkFlagFilename(name, specExtensions...)
			}
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}

// completeApps lists the service-scope apps of the namespace whose names
// start with prefix.
func (g *Global) completeApps(cmd *cobra.Command, prefix string) ([]cobra.Completion, cobra.ShellCompDirective) {
	if g.log == nil { // completion runs no PersistentPreRun
		g.log = slog.New(slog.DiscardHandler)
	}
	items, err := g.listItems(cmd.Context(), false)
	if err != nil {
		cobra.CompErrorln(redactErr(err))
		return nil, cobra.ShellCompDirectiveError
	}
	var out []cobra.Completion
	for _, it := range items {
		if it.Scope == string(journal.ScopeService) && strings.HasPrefix(it.App, prefix) {
			out = append(out, cobra.CompletionWithDesc(it.App, strings.TrimSpace(string(it.Active)+" "+it.Image)))
		}
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}
