//go:build !lean

package cli

import (
	"github.com/spf13/cobra"

	_ "github.com/bluegreen/bluegreen/internal/traffic/all" // every router registers itself
)

// leanBuild says whether this is the lean build (see companion.go); this one
// is complete.
const leanBuild = false

// clusterCommands are the commands the lean build leaves to the companion.
func clusterCommands(g *Global) []*cobra.Command {
	return []*cobra.Command{newMigrateCmd(g), newControllerCmd(g)}
}
