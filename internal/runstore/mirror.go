package runstore

import (
	"context"
	"log/slog"
	"sync"

	"github.com/bluegreen/bluegreen/internal/journal"
)

// Mirrored keeps runs in Primary, the source of truth, and a copy of each
// in Mirror: the cluster scope keeps a migration's runs in cluster A, where
// its Lease is, and a copy in cluster B, readable the day A is gone.
//
// Every write goes to Primary first, with its optimistic concurrency and
// crash-safety guarantees, then to the copy, which follows whatever it
// finds there. A copy that cannot be written (B unreachable) is logged,
// and not tried again by this process (each try could wait for a timeout):
// it must never stop or slow a run, least of all a rollback away from a
// failing B. The next command's first write brings the copy up to date.
// Reads come from Primary.
type Mirrored struct {
	Primary, Mirror *Store
	Log             *slog.Logger

	mu     sync.Mutex
	behind bool // a copy failed: the mirror is left as it is
}

// NewMirrored returns the store of primary with a copy of every run in
// mirror. mirror must carry primary's cluster identity: the runs act on
// the primary's cluster wherever their copy is kept.
func NewMirrored(primary, mirror *Store, log *slog.Logger) *Mirrored {
	mirror.copy = true
	return &Mirrored{Primary: primary, Mirror: mirror, Log: log}
}

var _ journal.Store = (*Mirrored)(nil)

// Save implements journal.Store.
func (m *Mirrored) Save(ctx context.Context, r *journal.Run) error {
	return saveEncoded(ctx, r, m.SaveJSON)
}

// SaveJSON writes the run to the primary, then its copy.
func (m *Mirrored) SaveJSON(ctx context.Context, id string, data []byte) error {
	if err := m.Primary.SaveJSON(ctx, id, data); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.behind {
		return nil
	}
	if err := m.Mirror.SaveJSON(ctx, id, data); err != nil {
		m.behind = true
		m.Log.Warn("the copy of the run in the other cluster could not be written, and is left behind until the next command; the record itself is saved",
			"run", id, "namespace", m.Mirror.namespace, "error", err)
	}
	return nil
}

// Get implements journal.Store, from the primary.
func (m *Mirrored) Get(ctx context.Context, id string) (*journal.Run, error) {
	return m.Primary.Get(ctx, id)
}

// List implements journal.Store, from the primary.
func (m *Mirrored) List(ctx context.Context, f journal.Filter) ([]*journal.Run, error) {
	return m.Primary.List(ctx, f)
}

// Prune deletes the oldest finished runs of app beyond the newest keep in
// the primary, then in the copy (best effort, as every copy).
func (m *Mirrored) Prune(ctx context.Context, app string, keep int) (int, error) {
	n, err := m.Primary.Prune(ctx, app, keep)
	if err != nil {
		return n, err
	}
	if _, err := m.Mirror.Prune(ctx, app, keep); err != nil {
		m.Log.Warn("prune the copies of old runs in the other cluster", "app", app, "namespace", m.Mirror.namespace, "error", err)
	}
	return n, nil
}
