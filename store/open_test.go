package store

import (
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/scaleacross/scaleacross/explore"
)

func sum(t *testing.T, path string) [32]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(b)
}

// TestOpensExactlyTheCheckedFile checks that URI syntax in a path (?, %,
// #) is not interpreted: Open and OpenReadOnly act on the file of that
// literal name, and another program's database whose name the path would
// decode to is left byte-identical.
func TestOpensExactlyTheCheckedFile(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"other.db", "studies.db"} {
		db, err := sql.Open("sqlite", filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(`CREATE TABLE t (x); INSERT INTO t VALUES (1)`); err != nil {
			t.Fatal(err)
		}
		db.Close()
	}
	before := map[string][32]byte{"other.db": sum(t, filepath.Join(dir, "other.db")), "studies.db": sum(t, filepath.Join(dir, "studies.db"))}
	for _, tc := range []struct{ name, path string }{
		{"query", "other.db?x=1"},
		{"query with mode", "other.db?mode=rwc"},
		{"percent escape", "%6fther.db"}, // decodes to other.db
		{"fragment", "other.db#x"},
		{"percent in a directory", "st%75dies.db"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, tc.path)
			if _, err := OpenReadOnly(path); err == nil {
				t.Error("OpenReadOnly of a missing literal path succeeded")
			}
			d, err := Open(path)
			if err != nil {
				t.Fatalf("Open(%q): %v", tc.path, err)
			}
			if _, err := d.Create(Study{Name: "t", Model: "m", GPUs: 8, Spec: "model: m", Hash: "h", Options: "{}"}, time.Unix(0, 0)); err != nil {
				t.Fatal(err)
			}
			d.Close()
			if _, err := os.Stat(path); err != nil {
				t.Errorf("the literal file %q was not created: %v", tc.path, err)
			}
			r, err := OpenReadOnly(path)
			if err != nil {
				t.Fatalf("OpenReadOnly(%q): %v", tc.path, err)
			}
			if ss, err := r.List(); err != nil || len(ss) != 1 {
				t.Errorf("List = %v, %v; want the one study", ss, err)
			}
			r.Close()
			for name, h := range before {
				if sum(t, filepath.Join(dir, name)) != h {
					t.Errorf("%s was modified", name)
				}
			}
		})
	}
}

// TestCorruptPageRefused checks that a study database with a corrupt
// interior b-tree page is refused before anything is written, and left
// byte-identical.
func TestCorruptPageRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "studies.db")
	d, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	id, err := d.Create(Study{Name: "t", Model: "m", GPUs: 8, Spec: "model: m", Hash: "h", Options: "{}"}, time.Unix(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	recs := make([]explore.Record, 4000)
	for i := range recs {
		recs[i] = explore.Record{Index: i, Candidate: explore.Candidate{TP: 1, CP: 1, PP: 1, VP: 1, EP: 1, DP: 8, Zero: 1, MicroBatch: 1,
			Placement: strings.Repeat("tp,pp,dp,", 4), Schedule: "1f1b", Recompute: "none"}, StepTimeS: float64(i), MFU: 0.4, MemoryGiB: 30}
	}
	if err := d.Commit(id, explore.State{Space: "explorer", Next: len(recs), Evaluated: len(recs)}, recs); err != nil {
		t.Fatal(err)
	}
	d.Close()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	pageSize := int(binary.BigEndian.Uint16(data[16:18]))
	if pageSize == 1 {
		pageSize = 65536
	}
	corrupted := false
	for off := pageSize; off+pageSize <= len(data); off += pageSize {
		if data[off] == 0x02 || data[off] == 0x05 { // an interior index or table page
			for i := off + 12; i < off+48; i++ {
				data[i] = 0xff // its cell pointers now point past the page
			}
			corrupted = true
			break
		}
	}
	if !corrupted {
		t.Fatal("no interior page found; grow the test's records")
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	h := sum(t, path)
	for _, open := range []func(string) (*DB, error){Open} {
		db, err := open(path)
		var fe *ForeignError
		if !errors.As(err, &fe) || !strings.Contains(err.Error(), "corrupt") {
			if db != nil {
				db.Close()
			}
			t.Errorf("Open = %v, want a ForeignError naming the corruption", err)
		}
	}
	if sum(t, path) != h {
		t.Error("the corrupt file was modified")
	}
	if _, err := os.Stat(path + "-journal"); err == nil {
		t.Error("a journal was left")
	}
}
