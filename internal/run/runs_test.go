package run

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
func TestRunsWarnsAboutBadRecords(t *testing.T) {
	var logs bytes.Buffer
	runs, err := Runs(t.Context(), brokenStore{}, slog.New(slog.NewTextHandler(&logs, nil)), journal.Filter{})
	if err != nil || len(runs) != 1 || runs[0].ID != "good" {
		t.Fatalf("Runs = %v, %v; want the good run and no error", runs, err)
	}
	if !strings.Contains(logs.String(), "skipped unreadable runs") || !strings.Contains(logs.String(), "bad") {
		t.Fatalf("no warning naming the bad run: %q", logs.String())
	}
}

func TestMaskEnvValues(t *testing.T) {
	in := `{"image":"shop:1","env":[{"name":"DB_PASSWORD","value":"hunter2-long"},{"name":"LOG_LEVEL","value":"debug"}]}`
	got := string(MaskEnvValues([]byte(in)))
	// Every env value is hidden, not only those under secret-looking names.
	if strings.Contains(got, "hunter2") || strings.Contains(got, `"debug"`) || strings.Count(got, `"value":"***"`) != 2 || !strings.Contains(got, `"LOG_LEVEL"`) {
		t.Fatalf("MaskEnvValues = %s", got)
	}
}
