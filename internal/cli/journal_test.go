package cli

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/bluegreen/bluegreen/internal/journal"
)

// brokenStore lists one good run and reports one unreadable record, as the
// bbolt journal does.
type brokenStore struct{ journal.Store }

func (brokenStore) List(context.Context, journal.Filter) ([]*journal.Run, error) {
	return []*journal.Run{{ID: "good"}}, &journal.BadRecordsError{Path: "/state/journal.db",
		Records: []journal.BadRecord{{ID: "bad", Err: context.Canceled}}}
}

// A damaged record is a warning: status, deploy and migrate go on with the
// runs that can be read.
func TestListRunsWarnsAboutBadRecords(t *testing.T) {
	var logs bytes.Buffer
	g := &Global{log: slog.New(slog.NewTextHandler(&logs, nil))}
	runs, err := g.listRuns(t.Context(), brokenStore{}, journal.Filter{})
	if err != nil || len(runs) != 1 || runs[0].ID != "good" {
		t.Fatalf("listRuns = %v, %v; want the good run and no error", runs, err)
	}
	if !strings.Contains(logs.String(), "skipped unreadable runs") || !strings.Contains(logs.String(), "bad") {
		t.Fatalf("no warning naming the bad run: %q", logs.String())
	}
}
