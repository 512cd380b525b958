package atomicfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// failAfter is a write function that writes n bytes and then fails, as a
// full disk does.
func failAfter(n int) func(io.Writer) error {
	return func(w io.Writer) error {
		if _, err := w.Write(make([]byte, n)); err != nil {
			return err
		}
		return errors.New("no space left on device")
	}
}

func TestWriteIsCompleteOrAbsent(t *testing.T) {
	for _, tc := range []struct {
		name     string
		existing bool
		write    func(io.Writer) error
		stop     bool
		wantErr  bool
		want     string
	}{
		{"writes", false, func(w io.Writer) error { _, err := io.WriteString(w, "ok"); return err }, false, false, "ok"},
		{"replaces", true, func(w io.Writer) error { _, err := io.WriteString(w, "new"); return err }, false, false, "new"},
		{"failure leaves no file", false, failAfter(1 << 20), false, true, ""},
		{"failure keeps the old file", true, failAfter(1 << 20), false, true, "old"},
		{"stopped mid-write", false, nil, true, true, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "out.json")
			if tc.existing {
				if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			s := &Set{}
			write := tc.write
			if tc.stop {
				write = func(w io.Writer) error {
					io.WriteString(w, "partial")
					s.RemoveAll() // the signal arrives while writing
					return nil
				}
			}
			err := s.Write(path, write)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err %v, want error %v", err, tc.wantErr)
			}
			got, rerr := os.ReadFile(path)
			if tc.want == "" {
				if rerr == nil {
					t.Errorf("file exists with %q, want absent", got)
				}
			} else if string(got) != tc.want {
				t.Errorf("file holds %q, want %q", got, tc.want)
			}
			entries, _ := os.ReadDir(dir)
			for _, e := range entries {
				if e.Name() != "out.json" {
					t.Errorf("leftover %s", e.Name())
				}
			}
			if tc.stop && !errors.Is(s.Write(path, write), ErrStopped) {
				t.Error("a write after RemoveAll must fail with ErrStopped")
			}
		})
	}
}

// TestWriteSpecialFiles checks that devices are written in place (never
// renamed over), symbolic links keep pointing at their replaced target,
// and a directory is refused.
func TestWriteSpecialFiles(t *testing.T) {
	s := &Set{}
	if _, err := os.Stat("/dev/null"); err == nil {
		if err := s.WriteBytes("/dev/null", []byte("x")); err != nil {
			t.Errorf("/dev/null: %v", err)
		}
		if fi, err := os.Stat("/dev/null"); err != nil || fi.Mode().IsRegular() {
			t.Errorf("/dev/null was replaced: %v %v", fi, err)
		}
	}
	dir := t.TempDir()
	target := filepath.Join(dir, "target.json")
	link := filepath.Join(dir, "link.json")
	if err := os.WriteFile(target, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, link); err != nil {
		t.Skip(err)
	}
	if err := s.WriteBytes(link, []byte("new")); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the link was replaced: %v %v", fi, err)
	}
	if got, _ := os.ReadFile(target); string(got) != "new" {
		t.Errorf("target holds %q, want new", got)
	}
	if err := s.WriteBytes(dir, []byte("x")); err == nil {
		t.Error("writing a directory succeeded")
	}
}
