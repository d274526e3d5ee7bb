//go:build lean

package cli

import (
	"fmt"
	"os"
	"syscall"

	"github.com/spf13/cobra"

	// The routers of the service and namespace scopes; the cluster scope's
	// (Route 53, external-dns) are the companion's.
	_ "github.com/bluegreen/bluegreen/internal/traffic/gatewayapi"
	_ "github.com/bluegreen/bluegreen/internal/traffic/nginx"
	_ "github.com/bluegreen/bluegreen/internal/traffic/selector"
)

// leanBuild says whether this is the lean build (see companion.go).
const leanBuild = true

// clusterCommands stand for migrate and controller: each runs the
// companion's command of the same name with the same arguments.
func clusterCommands(g *Global) []*cobra.Command {
	return []*cobra.Command{companionCmd(g, "migrate", migrateShort), companionCmd(g, "controller", controllerShort)}
}

func companionCmd(g *Global, name, short string) *cobra.Command {
	return &cobra.Command{
		Use:   name,
		Short: short,
		Long: fmt.Sprintf("%s.\n\nThis bluegreen is the lean build: it runs `%s %s` with the same arguments, found\nbeside it or on PATH. `bluegreen %s --help` shows the command's own help.",
			short, CompanionName, name, name),
		// Every argument, flags and --help included, is the companion's.
		DisableFlagParsing: true,
		PersistentPreRunE:  func(*cobra.Command, []string) error { return nil },
		RunE: func(*cobra.Command, []string) error {
			return g.execCompanion(name)
		},
		// Completion too: the companion answers the same __complete
		// command line.
		ValidArgsFunction: func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
			cobra.CompErrorln(g.execCompanion(name).Error())
			return nil, cobra.ShellCompDirectiveError
		},
	}
}

// execCompanion replaces this process with the companion, given this
// process's command line as it is (the companion is a complete bluegreen):
// the companion's exit code, signals and terminal are the command's own.
// It returns only on failure.
func (g *Global) execCompanion(name string) error {
	path, err := companionPath()
	if err != nil {
		return err
	}
	env := append(os.Environ(), callerEnv+"="+buildInfo().ident())
	if err := syscall.Exec(path, g.argv, env); err != nil {
		return fmt.Errorf("run %s for bluegreen %s: %w", path, name, err)
	}
	return nil
}
