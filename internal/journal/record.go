package journal

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// SchemaVersion is the layout of the runs this build writes. Raise it when a
// stored field changes meaning, so that an older bluegreen refuses a run it
// would misread (and perhaps undo wrongly) instead of guessing.
const SchemaVersion = 1

// ErrNewerSchema marks a run written by a newer bluegreen than this one.
var ErrNewerSchema = errors.New("run written by a newer bluegreen")

// MarshalJSON writes the run with "schema" set to SchemaVersion: whatever a
// Run in memory says, the record is written by this build, in its layout.
// json.Marshal and Encoder both go through it, so they stay byte-equal.
func (r Run) MarshalJSON() ([]byte, error) {
	type plain Run // without this method
	p := plain(r)
	p.Schema = SchemaVersion
	return json.Marshal(p)
}

// decode reads the stored run id of the journal at path. A record without a
// schema predates the field and is version 1.
func decode(path, id string, data []byte) (*Run, error) {
	r := new(Run)
	if err := json.Unmarshal(data, r); err != nil {
		return nil, fmt.Errorf("run %s in journal %s cannot be read (%w): the record is damaged, so bluegreen cannot resume or roll back this run; "+
			"check the app with `bluegreen status` and finish by hand if needed", id, path, err)
	}
	if r.Schema == 0 {
		r.Schema = 1
	}
	if r.Schema > SchemaVersion {
		return nil, fmt.Errorf("%w: run %s in journal %s has schema %d, this bluegreen reads up to %d; upgrade bluegreen to continue it",
			ErrNewerSchema, id, path, r.Schema, SchemaVersion)
	}
	return r, nil
}

// BadRecord is a stored run List skipped, and why.
type BadRecord struct {
	ID  string
	Err error
}

// BadRecordsError reports the runs List could not read. List returns it
// together with the runs it could, so a caller can warn and go on.
type BadRecordsError struct {
	Path    string
	Records []BadRecord
}

func (e *BadRecordsError) Error() string {
	ids := make([]string, len(e.Records))
	for i, r := range e.Records {
		ids[i] = r.ID
	}
	return fmt.Sprintf("journal %s: skipped %d run(s) that cannot be read (%s): %v",
		e.Path, len(e.Records), strings.Join(ids, ", "), e.Records[0].Err)
}

// Unwrap returns the reasons, so errors.Is(err, ErrNewerSchema) finds one.
func (e *BadRecordsError) Unwrap() []error {
	out := make([]error, len(e.Records))
	for i, r := range e.Records {
		out[i] = r.Err
	}
	return out
}
