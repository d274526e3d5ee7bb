package journal

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/bluegreen/bluegreen/internal/statefile"
)

// savedStore returns a store holding n runs of a few KB each, so that the
// file spans many pages.
func savedStore(t *testing.T, n int) *Bolt {
	t.Helper()
	s := newStore(t)
	for i := range n {
		r := &Run{ID: fmt.Sprintf("run-%03d", i), App: "shop", State: Succeeded, Reason: strings.Repeat("r", 3000)}
		if err := s.Save(context.Background(), r); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// A damaged file fails with ErrDamaged naming the file and the fix, instead
// of a bbolt panic that kills the process. List reads every page, so it must
// fail; the other operations fail when they touch a damaged page.
func TestDamagedJournal(t *testing.T) {
	tests := []struct {
		name   string
		damage func(t *testing.T, path string)
	}{
		{"truncated to a third", func(t *testing.T, path string) { truncate(t, path, 3) }},
		{"truncated to one page", func(t *testing.T, path string) {
			if err := os.Truncate(path, 4096); err != nil {
				t.Fatal(err)
			}
		}},
		{"garbage bytes", func(t *testing.T, path string) {
			if err := os.WriteFile(path, []byte(strings.Repeat("not a journal \x00\xff", 2000)), 0o600); err != nil {
				t.Fatal(err)
			}
		}},
		{"freelist overwritten", func(t *testing.T, path string) { overwritePages(t, path, 2, 4) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := savedStore(t, 40)
			tt.damage(t, s.Path())
			ctx := context.Background()
			ops := map[string]func() error{
				"open": func() error { _, err := OpenBolt(s.Path()); return err },
				"save": func() error { return s.Save(ctx, &Run{ID: "new", App: "shop"}) },
				"list": func() error { _, err := s.List(ctx, Filter{}); return err },
				"get":  func() error { _, err := s.Get(ctx, "run-001"); return err },
			}
			for op, fn := range ops {
				err := fn()
				if err == nil && op != "list" {
					continue // bbolt reads pages lazily: one that survived may still serve an open, a write or a Get
				}
				if !errors.Is(err, ErrDamaged) || !strings.Contains(err.Error(), s.Path()) || !strings.Contains(err.Error(), "mv "+s.Path()) {
					t.Errorf("%s: err = %v, want ErrDamaged naming the file and how to move it aside", op, err)
				}
			}
		})
	}
}

func truncate(t *testing.T, path string, div int64) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(path, fi.Size()/div); err != nil {
		t.Fatal(err)
	}
}

// overwritePages fills pages [from, to) with 0xff: the meta pages still
// point at them, so bbolt trusts what it reads there.
func overwritePages(t *testing.T, path string, from, to int) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	junk := []byte(strings.Repeat("\xff", 4096*(to-from)))
	if _, err := f.WriteAt(junk, int64(4096*from)); err != nil {
		t.Fatal(err)
	}
}

// One record that does not decode is skipped and reported by List; Get of it
// names the run and the file.
func TestBadRecord(t *testing.T) {
	ctx := context.Background()
	s := savedStore(t, 3)
	putRaw(t, s, "run-001", []byte("{garbage"))
	putRaw(t, s, "run-009", []byte(`{"schema":99,"id":"run-009","app":"shop"}`))
	runs, err := s.List(ctx, Filter{})
	var bad *BadRecordsError
	if !errors.As(err, &bad) || len(bad.Records) != 2 || bad.Path != s.Path() {
		t.Fatalf("List err = %v, want a BadRecordsError with 2 records", err)
	}
	if !errors.Is(err, ErrNewerSchema) || !strings.Contains(err.Error(), "run-001") || !strings.Contains(err.Error(), "run-009") {
		t.Errorf("List err = %v, want both runs named and ErrNewerSchema inside", err)
	}
	if len(runs) != 2 || runs[0].ID != "run-002" || runs[1].ID != "run-000" {
		t.Errorf("List returned %d runs, want run-002 and run-000", len(runs))
	}
	_, err = s.Get(ctx, "run-001")
	if err == nil || !strings.Contains(err.Error(), "run run-001 in journal "+s.Path()+" cannot be read") {
		t.Errorf("Get(bad) err = %v, want it to name the run and the file", err)
	}
	_, err = s.Get(ctx, "run-009")
	if !errors.Is(err, ErrNewerSchema) || !strings.Contains(err.Error(), "upgrade bluegreen") {
		t.Errorf("Get(newer) err = %v, want ErrNewerSchema saying upgrade", err)
	}
}

// Runs are written with the schema; a record from before the field reads as 1.
func TestSchema(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	if err := s.Save(ctx, &Run{ID: "new", App: "shop"}); err != nil {
		t.Fatal(err)
	}
	putRaw(t, s, "old", []byte(`{"id":"old","app":"shop","state":"succeeded","steps":[]}`))
	var raw []byte
	if err := s.view(func(tx *bolt.Tx) error {
		raw = append(raw, tx.Bucket(runsBucket).Get([]byte("new"))...)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(raw), `{"schema":1,`) {
		t.Errorf("stored run %s, want it to start with the schema", raw)
	}
	old, err := s.Get(ctx, "old")
	if err != nil || old.Schema != 1 || old.State != Succeeded {
		t.Errorf("Get(old) = %+v, %v; want schema 1", old, err)
	}
}

func putRaw(t *testing.T, s *Bolt, id string, data []byte) {
	t.Helper()
	if err := s.update(func(tx *bolt.Tx) error { return tx.Bucket(runsBucket).Put([]byte(id), data) }); err != nil {
		t.Fatal(err)
	}
}

// A second process holding the write lock makes the store fail with
// ErrInUse after its timeout, not hang.
func TestJournalInUse(t *testing.T) {
	s := newStore(t)
	s.timeout = 100 * time.Millisecond
	holder, err := bolt.Open(s.Path(), 0o600, nil) // bbolt's lock is per open file
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = holder.Close() })
	err = s.Save(context.Background(), &Run{ID: "r", App: "shop"})
	if !errors.Is(err, ErrInUse) || !strings.Contains(err.Error(), s.Path()) {
		t.Fatalf("err = %v, want ErrInUse naming the file", err)
	}
}

// The journal is never opened through a link nor when others can read it.
func TestJournalFileSafety(t *testing.T) {
	dir := t.TempDir()
	real := newStore(t).Path()
	link := filepath.Join(dir, "journal.db")
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenBolt(link); !errors.Is(err, statefile.ErrUnsafe) || !strings.Contains(err.Error(), "symbolic link") {
		t.Errorf("OpenBolt(link) err = %v, want a refusal of the link", err)
	}
	if err := os.Chmod(real, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenBolt(real); !errors.Is(err, statefile.ErrUnsafe) || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("OpenBolt(0644) err = %v, want a refusal saying chmod 600", err)
	}
	fresh := filepath.Join(dir, "new", "journal.db")
	if _, err := OpenBolt(fresh); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(fresh); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("new journal mode %v (%v), want 0600", fi.Mode(), err)
	}
}
