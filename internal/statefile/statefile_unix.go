//go:build unix

package statefile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"
)

// noFollow makes open(2) fail on a symbolic link instead of following it.
const noFollow = syscall.O_NOFOLLOW

// groupOtherBits says whether the mode's group and other bits mean anything.
const groupOtherBits = true

// isLinkRefused reports whether err is open(2) refusing path because it is a
// symbolic link (ELOOP under O_NOFOLLOW).
func isLinkRefused(path string, err error) bool {
	if !errors.Is(err, syscall.ELOOP) {
		return false
	}
	fi, lerr := os.Lstat(path)
	return lerr == nil && fi.Mode()&fs.ModeSymlink != 0
}

// ownedByMe refuses a file another user owns: its owner could read or
// rewrite the journal under us.
func ownedByMe(path string, fi fs.FileInfo) error {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return nil
	}
	if uid := os.Getuid(); int(st.Uid) != uid {
		return fmt.Errorf("%w: %s is owned by uid %d, not by you (uid %d); run `chown %d %s` as root, or use a file of your own",
			ErrUnsafe, path, st.Uid, uid, uid, path)
	}
	return nil
}
