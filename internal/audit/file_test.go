package audit

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bluegreen/bluegreen/internal/statefile"
)

// The audit log is never written or read through a symbolic link, nor used
// when it is open to other users: a link planted where the log goes would
// otherwise make bluegreen append to a file someone else chose.
func TestUnsafeFileRefused(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, path string)
		want  string
	}{
		{"symlink", func(t *testing.T, path string) {
			target := filepath.Join(t.TempDir(), "elsewhere.jsonl")
			if err := os.WriteFile(target, nil, 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(target, path); err != nil {
				t.Fatal(err)
			}
		}, "symbolic link"},
		{"world readable", func(t *testing.T, path string) {
			if err := os.WriteFile(path, nil, 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(path, 0o644); err != nil {
				t.Fatal(err)
			}
		}, "chmod 600"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "audit.jsonl")
			tt.setup(t, path)
			l, err := Open(path, nil)
			if err == nil {
				_ = l.Close()
			}
			if !errors.Is(err, statefile.ErrUnsafe) || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "--audit-log") {
				t.Errorf("Open err = %v, want a refusal saying %q", err, tt.want)
			}
			if _, err := Read(context.Background(), path, Filter{}); !errors.Is(err, statefile.ErrUnsafe) {
				t.Errorf("Read err = %v, want a refusal", err)
			}
		})
	}
}
