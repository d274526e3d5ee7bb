package statefile

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestOpen(t *testing.T) {
	tests := []struct {
		name    string
		setup   func(t *testing.T, path string)
		wantErr string // "" for success
	}{
		{name: "new file", setup: func(*testing.T, string) {}},
		{name: "private file", setup: func(t *testing.T, p string) { write(t, p, 0o600) }},
		{name: "group readable", setup: func(t *testing.T, p string) { write(t, p, 0o640) },
			wantErr: "has mode 0640, open to other users; run `chmod 600 "},
		{name: "world writable", setup: func(t *testing.T, p string) { write(t, p, 0o606) }, wantErr: "chmod 600"},
		{name: "symlink to own file", setup: func(t *testing.T, p string) {
			target := p + ".real"
			write(t, target, 0o600)
			if err := os.Symlink(target, p); err != nil {
				t.Fatal(err)
			}
		}, wantErr: "is a symbolic link"},
		{name: "dangling symlink", setup: func(t *testing.T, p string) {
			if err := os.Symlink(p+".nowhere", p); err != nil {
				t.Fatal(err)
			}
		}, wantErr: "is a symbolic link"},
		{name: "directory", setup: func(t *testing.T, p string) {
			if err := os.Mkdir(p, 0o700); err != nil {
				t.Fatal(err)
			}
		}, wantErr: "is not a regular file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "journal.db")
			tt.setup(t, path)
			f, err := Open(path, os.O_RDWR|os.O_CREATE, 0o644)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { _ = f.Close() })
				fi, err := os.Lstat(path)
				if err != nil || fi.Mode().Perm() != Mode {
					t.Fatalf("file mode %v (%v), want %v", fi.Mode(), err, Mode)
				}
				return
			}
			if err == nil {
				_ = f.Close()
				t.Fatalf("Open succeeded, want an error containing %q", tt.wantErr)
			}
			if !errors.Is(err, ErrUnsafe) || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), path) {
				t.Fatalf("err = %v, want ErrUnsafe naming %s and %q", err, path, tt.wantErr)
			}
			if tt.name == "dangling symlink" {
				if _, serr := os.Stat(path + ".nowhere"); !errors.Is(serr, os.ErrNotExist) {
					t.Fatalf("the link's target was created: %v", serr)
				}
			}
		})
	}
}

func write(t *testing.T, path string, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte("x"), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil { // umask must not weaken the case
		t.Fatal(err)
	}
}
