package cli

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// Set at build time with -ldflags "-X github.com/bluegreen/bluegreen/internal/cli.Version=…"
// (make build and make release do); a build without them reads what the
// Go toolchain recorded (go install …@v1.2.3 records the module version,
// a build in a git checkout the commit).
var (
	Version = ""
	Commit  = ""
	Date    = ""
)

// BuildInfo is what `bluegreen version` prints.
type BuildInfo struct {
	Version string `json:"version"`
	Commit  string `json:"commit,omitempty"`
	Date    string `json:"date,omitempty"`
	// Modified says the build's checkout had uncommitted changes.
	Modified bool   `json:"modified,omitempty"`
	Go       string `json:"go"`
	Platform string `json:"platform"`
	// Build is "lean" for the build that runs bluegreen-full for migrate
	// and controller, "complete" for one that has every command.
	Build string `json:"build"`
	// Companion is the path of the bluegreen-full a lean build would run,
	// empty when there is none (or the build is complete).
	Companion string `json:"companion,omitempty"`
}

// buildInfo combines the ldflags with what the toolchain recorded.
func buildInfo() BuildInfo {
	b := BuildInfo{Version: Version, Commit: Commit, Date: Date, Go: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH, Build: "complete"}
	if leanBuild {
		b.Build = "lean"
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		if b.Version == "" {
			b.Version = "unknown"
		}
		return b
	}
	if b.Version == "" {
		b.Version = info.Main.Version // v1.2.3 from go install …@v1.2.3; "(devel)" in a checkout
	}
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			if b.Commit == "" {
				b.Commit = s.Value
			}
		case "vcs.time":
			if b.Date == "" {
				b.Date = s.Value
			}
		case "vcs.modified":
			b.Modified = s.Value == "true"
		}
	}
	if b.Version == "" {
		b.Version = "unknown"
	}
	return b
}

func newVersionCmd(g *Global) *cobra.Command {
	return &cobra.Command{
		Use:     "version",
		Short:   "Print bluegreen's version, commit and build date",
		Example: "  bluegreen version\n  bluegreen version -o json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			b := buildInfo()
			if leanBuild {
				b.Companion, _ = companionPath()
			}
			if g.structured() {
				return g.emit("BuildInfo", "bluegreen", b)
			}
			line := "bluegreen " + b.Version
			if b.Commit != "" {
				c := b.Commit
				if len(c) > 12 {
					c = c[:12]
				}
				if b.Modified {
					c += ", modified"
				}
				line += fmt.Sprintf(" (commit %s", c)
				if b.Date != "" {
					line += ", " + b.Date
				}
				line += ")"
			}
			line += " " + b.Go + " " + b.Platform
			if leanBuild {
				line += " lean"
			}
			if _, err := fmt.Fprintln(g.out, line); err != nil || !leanBuild {
				return err
			}
			// Whether migrate and controller will run, at a glance after
			// an install.
			companion := CompanionName + ": " + b.Companion
			if b.Companion == "" {
				companion = CompanionName + " not found beside bluegreen or on PATH: migrate and controller cannot run"
			}
			_, err := fmt.Fprintln(g.out, companion)
			return err
		},
	}
}
