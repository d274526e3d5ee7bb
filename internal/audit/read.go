package audit

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"time"

	"github.com/bluegreen/bluegreen/internal/statefile"
)

// Filter selects records in Read. Zero fields match everything.
type Filter struct {
	Run, App, Namespace, Action, Result string
	// Since and Until bound Time (inclusive, exclusive).
	Since, Until time.Time
	// Limit keeps only the last Limit matching records; 0 keeps all.
	Limit int
}

// Match reports whether r passes f.
func (f Filter) Match(r Record) bool {
	switch {
	case f.Run != "" && r.Run != f.Run,
		f.App != "" && r.App != f.App,
		f.Namespace != "" && r.Namespace != f.Namespace,
		f.Action != "" && r.Action != f.Action,
		f.Result != "" && r.Result != f.Result,
		!f.Since.IsZero() && r.Time.Before(f.Since),
		!f.Until.IsZero() && !r.Time.Before(f.Until):
		return false
	}
	return true
}

// Read returns the records of the log at path that match f, oldest first. A
// log that does not exist yet has no records. The file is refused like in
// Open. A line that is not a valid record is an error naming the line.
func Read(ctx context.Context, path string, f Filter) ([]Record, error) {
	file, err := statefile.Open(path, os.O_RDONLY, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if errors.Is(err, statefile.ErrUnsafe) {
		return nil, fmt.Errorf("audit log: %w (or set --audit-log)", err)
	}
	if err != nil {
		return nil, fmt.Errorf("audit log %s: open: %w", path, err)
	}
	defer file.Close()
	var out []Record
	br := bufio.NewReader(file)
	for lineNo := 1; ; lineNo++ {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("audit log %s: read: %w", path, err)
		}
		line, err := br.ReadBytes('\n')
		if len(bytes.TrimSpace(line)) > 0 {
			var r Record
			if uerr := json.Unmarshal(line, &r); uerr != nil {
				return nil, fmt.Errorf("audit log %s: line %d: %w", path, lineNo, uerr)
			}
			if f.Match(r) {
				out = append(out, r)
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("audit log %s: read line %d: %w", path, lineNo, err)
		}
	}
	if f.Limit > 0 && len(out) > f.Limit {
		out = out[len(out)-f.Limit:]
	}
	return out, nil
}
