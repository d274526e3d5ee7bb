//go:build unix

package statefile

import (
	"errors"
	"io/fs"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

// fakeInfo is a FileInfo with a chosen owner: a test cannot chown a file to
// someone else without root.
type fakeInfo struct{ uid uint32 }

func (fakeInfo) Name() string       { return "journal.db" }
func (fakeInfo) Size() int64        { return 0 }
func (fakeInfo) Mode() fs.FileMode  { return 0o600 }
func (fakeInfo) ModTime() time.Time { return time.Time{} }
func (fakeInfo) IsDir() bool        { return false }
func (f fakeInfo) Sys() any         { return &syscall.Stat_t{Uid: f.uid} }

func TestPrivateOwner(t *testing.T) {
	me := uint32(os.Getuid())
	if err := private("/state/journal.db", fakeInfo{uid: me}); err != nil {
		t.Fatalf("own file refused: %v", err)
	}
	err := private("/state/journal.db", fakeInfo{uid: me + 1})
	if !errors.Is(err, ErrUnsafe) || !strings.Contains(err.Error(), "not by you") || !strings.Contains(err.Error(), "chown") {
		t.Fatalf("err = %v, want ErrUnsafe saying the owner and chown", err)
	}
}
