package journal

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Store keeps runs durably. Every method is safe to call from several
// processes at once.
type Store interface {
	// Save writes the whole run; it returns only once the write is on disk.
	Save(ctx context.Context, r *Run) error
	// Get returns the run with the given ID or ErrNotFound.
	Get(ctx context.Context, id string) (*Run, error)
	// List returns runs matching f, newest first. Records that cannot be
	// read are skipped and reported in a *BadRecordsError returned along
	// with the runs that could.
	List(ctx context.Context, f Filter) ([]*Run, error)
}

// Filter selects runs. Empty fields match everything.
type Filter struct {
	Scope                   Scope
	Context, Namespace, App string
	// Limit caps the number of runs returned; 0 means no cap.
	Limit int
}

// Matches reports whether f selects r.
func (f Filter) Matches(r *Run) bool {
	return (f.Scope == "" || f.Scope == r.Scope) &&
		(f.Context == "" || f.Context == r.Context) &&
		(f.Namespace == "" || f.Namespace == r.Namespace) &&
		(f.App == "" || f.App == r.App)
}

var runsBucket = []byte("runs")

// Bolt is a Store in a bbolt file. The file is opened for each operation and
// closed after it, so that concurrent bluegreen processes (a deploy in one
// terminal, status in another) never wait on each other's file lock for longer
// than one transaction.
type Bolt struct {
	path    string
	timeout time.Duration
}

// OpenBolt prepares a store at path, creating its directory (0700) and the
// database file (0600) if they do not exist. The file is refused when it is
// a symbolic link, another user's or open to other users (see statefile),
// and reported with the fix when it is damaged or held by another process.
func OpenBolt(path string) (*Bolt, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("journal %s: create directory: %w", path, err)
	}
	b := &Bolt{path: path, timeout: 10 * time.Second}
	if err := b.update(func(tx *bolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(runsBucket)
		return err
	}); err != nil {
		return nil, err
	}
	return b, nil
}

// DefaultPath is the journal location when none is configured:
// $XDG_STATE_HOME/bluegreen/journal.db, else ~/.local/state/bluegreen/journal.db.
func DefaultPath() (string, error) {
	if d := os.Getenv("XDG_STATE_HOME"); d != "" {
		return filepath.Join(d, "bluegreen", "journal.db"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("locate journal: %w (set --journal or XDG_STATE_HOME)", err)
	}
	return filepath.Join(home, ".local", "state", "bluegreen", "journal.db"), nil
}

// Path is the database file.
func (b *Bolt) Path() string { return b.path }

func (b *Bolt) update(fn func(*bolt.Tx) error) error {
	return b.do(false, fn)
}

func (b *Bolt) view(fn func(*bolt.Tx) error) error {
	return b.do(true, fn)
}

// Save implements Store. bbolt fsyncs on commit, so the run is durable when
// Save returns.
func (b *Bolt) Save(ctx context.Context, r *Run) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if r.ID == "" {
		return errors.New("save run: empty ID")
	}
	data, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("save run %s: %w", r.ID, err)
	}
	return b.SaveJSON(ctx, r.ID, data)
}

// SaveJSON writes a run already encoded as JSON (see Save); the engine
// encodes under its own lock and writes outside it.
func (b *Bolt) SaveJSON(ctx context.Context, id string, data []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if id == "" {
		return errors.New("save run: empty ID")
	}
	return b.update(func(tx *bolt.Tx) error {
		return tx.Bucket(runsBucket).Put([]byte(id), data)
	})
}

// Get implements Store.
func (b *Bolt) Get(ctx context.Context, id string) (*Run, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var r *Run
	err := b.view(func(tx *bolt.Tx) error {
		data := tx.Bucket(runsBucket).Get([]byte(id))
		if data == nil {
			return fmt.Errorf("run %s: %w", id, ErrNotFound)
		}
		var derr error
		r, derr = decode(b.path, id, data)
		return derr
	})
	return r, err
}

// List implements Store. IDs sort by creation time, so a reverse cursor walk
// yields the newest runs first. A record that does not decode is skipped: one
// bad run must not hide the others. List then returns the runs it read
// together with a *BadRecordsError naming the skipped ones; callers warn and
// go on.
func (b *Bolt) List(ctx context.Context, f Filter) ([]*Run, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var runs []*Run
	bad := &BadRecordsError{Path: b.path}
	err := b.view(func(tx *bolt.Tx) error {
		c := tx.Bucket(runsBucket).Cursor()
		for k, v := c.Last(); k != nil; k, v = c.Prev() {
			r, err := decode(b.path, string(k), v)
			if err != nil {
				bad.Records = append(bad.Records, BadRecord{ID: string(k), Err: err})
				continue
			}
			if !f.Matches(r) {
				continue
			}
			runs = append(runs, r)
			if f.Limit > 0 && len(runs) == f.Limit {
				return nil
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(bad.Records) > 0 {
		return runs, bad
	}
	return runs, nil
}
