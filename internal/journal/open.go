package journal

import (
	"errors"
	"fmt"
	"os"
	"runtime/debug"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/bluegreen/bluegreen/internal/statefile"
)

// ErrDamaged marks a journal file bbolt cannot read: truncated, overwritten
// or not a journal at all.
var ErrDamaged = errors.New("journal file is damaged")

// ErrInUse marks a journal whose file lock another process held for longer
// than the store's timeout.
var ErrInUse = errors.New("journal is in use by another bluegreen process")

// do opens the file, runs fn in a read or write transaction and closes it.
// bbolt panics on some damage (an "invalid freelist page", a page beyond the
// end of a truncated file) and reads the file through mmap, so a page past
// the end faults: both are turned into an ErrDamaged error here instead of
// killing every command with a stack trace.
func (b *Bolt) do(readOnly bool, fn func(*bolt.Tx) error) (err error) {
	var file *os.File // the file bbolt opened, to release its lock after a panic
	var db *bolt.DB
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		p := recover()
		if p == nil {
			return
		}
		if db != nil {
			_ = closeQuietly(db)
		} else if file != nil {
			_ = file.Close()
		}
		err = b.damaged(fmt.Errorf("%v", p))
	}()
	db, err = bolt.Open(b.path, statefile.Mode, &bolt.Options{
		Timeout:  b.timeout,
		ReadOnly: readOnly,
		OpenFile: func(path string, flag int, mode os.FileMode) (*os.File, error) {
			f, err := statefile.Open(path, flag, mode)
			file = f
			return f, err
		},
	})
	if err != nil {
		return b.openErr(err)
	}
	if readOnly {
		err = db.View(fn)
	} else {
		err = db.Update(fn)
	}
	cerr := db.Close()
	db = nil
	if err != nil {
		if readOnly {
			return err
		}
		return fmt.Errorf("write journal %s: %w", b.path, err)
	}
	if cerr != nil {
		return fmt.Errorf("close journal %s: %w", b.path, cerr)
	}
	return nil
}

// closeQuietly closes db after a panic; a second panic while closing a
// damaged file must not replace the first.
func closeQuietly(db *bolt.DB) (err error) {
	defer func() {
		if recover() != nil {
			err = ErrDamaged
		}
	}()
	return db.Close()
}

// openErr explains why bolt.Open failed and what to do.
func (b *Bolt) openErr(err error) error {
	switch {
	case errors.Is(err, statefile.ErrUnsafe):
		return fmt.Errorf("journal: %w (or set --journal)", err)
	case errors.Is(err, berrors.ErrTimeout):
		return fmt.Errorf("%w: %s stayed locked for %s; wait for the other command (deploy, resume, migrate …) to finish, or find it with `fuser %s`",
			ErrInUse, b.path, b.timeout, b.path)
	case errors.Is(err, berrors.ErrInvalid), errors.Is(err, berrors.ErrVersionMismatch),
		errors.Is(err, berrors.ErrChecksum), errors.Is(err, berrors.ErrInvalidMapping):
		return b.damaged(err)
	}
	// bbolt reports some damage (e.g. "file size too small") with no
	// sentinel; a file that opens but is not a journal ends up here too.
	if fi, serr := os.Stat(b.path); serr == nil && fi.Size() > 0 && !errors.Is(err, os.ErrPermission) {
		return b.damaged(err)
	}
	return fmt.Errorf("open journal %s: %w", b.path, err)
}

// damaged is the error for a journal file that cannot be read, with the fix.
func (b *Bolt) damaged(cause error) error {
	return fmt.Errorf("%w: %s (%v): move it aside with `mv %s %s.damaged` and run the command again, which starts an empty journal; "+
		"the runs recorded in it are lost unless you restore the file from a backup",
		ErrDamaged, b.path, cause, b.path, b.path)
}
