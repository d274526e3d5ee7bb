package cli

import (
	"path/filepath"

	"github.com/bluegreen/bluegreen/internal/journal"
	"github.com/bluegreen/bluegreen/internal/redact"
)

func redactText(s string) string { return redact.Text(s) }

func redactErr(err error) string { return redact.Text(err.Error()) }

func (g *Global) auditPath() string {
	if g.Audit != "" {
		return g.Audit
	}
	p, err := journal.DefaultPath()
	if err != nil {
		return "" // no home folder: no local audit log; the record in the cluster remains
	}
	return filepath.Join(filepath.Dir(p), "audit.jsonl")
}
