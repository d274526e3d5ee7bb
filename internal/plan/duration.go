package plan

import "github.com/bluegreen/bluegreen/internal/spec"

// Duration is a time.Duration that reads and writes as "30s" in spec files
// and the journal.
type Duration = spec.Duration
