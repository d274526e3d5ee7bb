package statefile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// Mode is the permission of every state file bluegreen creates.
const Mode fs.FileMode = 0o600

// ErrUnsafe marks a state file bluegreen refuses to use: a symbolic link, not
// a regular file, another user's, or open to other users.
var ErrUnsafe = errors.New("unsafe state file")

// Check returns an error wrapping ErrUnsafe if path exists and is not a
// private regular file of the current user. A path that does not exist yet
// passes: Open creates it with Mode.
func Check(path string) error {
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("state file %s: %w", path, err)
	}
	return private(path, fi)
}

// Open opens path with flag, never following a symbolic link, creating it
// with Mode when flag has os.O_CREATE, and checks the opened file is the
// private regular file at path. It has os.OpenFile's signature so that an
// embedded database (bbolt's Options.OpenFile) opens its file through it.
func Open(path string, flag int, _ fs.FileMode) (*os.File, error) {
	if err := Check(path); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, flag|noFollow, Mode)
	if err != nil {
		if isLinkRefused(path, err) {
			return nil, linkErr(path)
		}
		return nil, err
	}
	if err := verify(path, f); err != nil {
		_ = f.Close()
		return nil, err
	}
	return f, nil
}

// verify checks that f is still the file at path (not swapped for a link
// between Check and the open) and private.
func verify(path string, f *os.File) error {
	opened, err := f.Stat()
	if err != nil {
		return fmt.Errorf("state file %s: %w", path, err)
	}
	now, err := os.Lstat(path)
	if err != nil {
		return fmt.Errorf("state file %s: %w", path, err)
	}
	if now.Mode()&fs.ModeSymlink != 0 {
		return linkErr(path)
	}
	if !os.SameFile(opened, now) {
		return fmt.Errorf("%w: %s was replaced while it was being opened; check who else writes to its directory and run the command again", ErrUnsafe, path)
	}
	return private(path, opened)
}

// private checks the type, owner and mode of the file at path.
func private(path string, fi fs.FileInfo) error {
	switch {
	case fi.Mode()&fs.ModeSymlink != 0:
		return linkErr(path)
	case !fi.Mode().IsRegular():
		return fmt.Errorf("%w: %s is not a regular file (%s); use the path of a regular file", ErrUnsafe, path, fi.Mode().Type())
	}
	if err := ownedByMe(path, fi); err != nil {
		return err
	}
	if perm := fi.Mode().Perm(); groupOtherBits && perm&0o077 != 0 {
		return fmt.Errorf("%w: %s has mode %#o, open to other users; run `chmod 600 %s`", ErrUnsafe, path, perm, path)
	}
	return nil
}

func linkErr(path string) error {
	return fmt.Errorf("%w: %s is a symbolic link, and bluegreen does not follow links to its state files; use the path of the file itself", ErrUnsafe, path)
}
