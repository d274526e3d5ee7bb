package cli

import (
	"path/filepath"

	"github.com/bluegreen/bluegreen/internal/redact"
)

func redactText(s string) string { return redact.Text(s) }

func redactErr(err error) string { return redact.Text(err.Error()) }

func (g *Global) auditPath() string {
	if g.Audit != "" {
		return g.Audit
	}
	return filepath.Join(filepath.Dir(g.journalPath()), "audit.jsonl")
}
