package store

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/scaleacross/scaleacross/explore"
	"github.com/scaleacross/scaleacross/fault"
)

func TestRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "studies.db")
	d, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	id, err := d.Create(Study{Name: "t", Model: "m", GPUs: 8, Spec: "model: m", Hash: "h", Options: "{}"}, time.Unix(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	recs := []explore.Record{
		{Index: 3, Candidate: explore.Candidate{TP: 2, CP: 1, PP: 2, VP: 1, EP: 1, DP: 2, Zero: 1, MicroBatch: 1, SP: true, Placement: "tp,pp,dp", Schedule: "1f1b", Recompute: "none"}, StepTimeS: 1.5, MFU: 0.4, MemoryGiB: 30},
		{Index: 7, Candidate: explore.Candidate{TP: 1, CP: 1, PP: 1, VP: 1, EP: 1, DP: 8, Zero: 3, MicroBatch: 2, Placement: "dp", Schedule: "1f1b", Recompute: "full", Technology: "x"}, StepTimeS: 2, MFU: 0.3, MemoryGiB: 20},
	}
	st := explore.State{Space: "explorer", Next: 8, Evaluated: 8, MinMemoryGiB: 90, ElapsedS: 0.5}
	if err := d.Commit(id, st, recs[:1]); err != nil {
		t.Fatal(err)
	}
	st.Done = true
	if err := d.Commit(id, st, recs[1:]); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	d, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	got, err := d.States(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	st.Records = recs
	if diff := cmp.Diff(map[string]*explore.State{"explorer": &st}, got); diff != "" {
		t.Errorf("states (-want +got):\n%s", diff)
	}
	s, err := d.Study(id)
	if err != nil || s.Status != StatusRunning || s.Shard.Count != 1 {
		t.Errorf("study = %+v, %v", s, err)
	}
	var nf *NotFoundError
	if _, err := d.Study(99); !errors.As(err, &nf) {
		t.Errorf("Study(99) = %v, want NotFoundError", err)
	}
}

// A foreign or corrupt file is refused with exit code 2 and left byte for
// byte as it was.
func TestForeignFilesUntouched(t *testing.T) {
	dir := t.TempDir()
	other := filepath.Join(dir, "other.db")
	db, err := sql.Open("sqlite", other)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`CREATE TABLE t (x); INSERT INTO t VALUES (1)`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	ours := filepath.Join(dir, "ours.db")
	d, err := Open(ours)
	if err != nil {
		t.Fatal(err)
	}
	d.Close()
	good, _ := os.ReadFile(ours)
	corrupt := append([]byte(nil), good...)
	for i := 100; i < len(corrupt); i++ {
		corrupt[i] ^= 0x5a
	}
	files := map[string][]byte{
		"text.db":    []byte("model: llama3.1-405b\n"),
		"short.db":   []byte("SQLite format 3\x00"),
		"corrupt.db": corrupt,
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	files["other.db"], _ = os.ReadFile(other)
	for name, before := range files {
		path := filepath.Join(dir, name)
		d, err := Open(path)
		var fe *ForeignError
		if !errors.As(err, &fe) || !errors.Is(fe, fault.ErrBadInput) {
			if d != nil {
				d.Close()
			}
			t.Errorf("Open(%s) = %v, want a ForeignError", name, err)
			continue
		}
		after, _ := os.ReadFile(path)
		if !bytes.Equal(before, after) {
			t.Errorf("Open(%s) modified the file", name)
		}
		if _, err := os.Stat(path + "-journal"); err == nil {
			t.Errorf("Open(%s) left a journal", name)
		}
	}
}

func TestDefaultPath(t *testing.T) {
	t.Setenv("XDG_DATA_HOME", "/data")
	p, err := DefaultPath()
	if err != nil || p != "/data/scaleacross/studies.db" {
		t.Errorf("DefaultPath() = %q, %v", p, err)
	}
	t.Setenv("XDG_DATA_HOME", "")
	t.Setenv("HOME", "/home/u")
	p, err = DefaultPath()
	if err != nil || p != "/home/u/.local/share/scaleacross/studies.db" {
		t.Errorf("DefaultPath() = %q, %v", p, err)
	}
}

// CommitBatch deletes the records a search no longer keeps, and a
// version 1 database (no spaces.feasible) is upgraded on open, counting
// the candidates it stored, which were all that fit.
func TestDropAndUpgrade(t *testing.T) {
	path := filepath.Join(t.TempDir(), "studies.db")
	d, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	id, err := d.Create(Study{Name: "t", Model: "m", GPUs: 8, Spec: "model: m", Hash: "h", Options: "{}"}, time.Unix(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	var recs []explore.Record
	for i := 0; i < 5; i++ {
		recs = append(recs, explore.Record{Index: i, Candidate: explore.Candidate{TP: 1, CP: 1, PP: 1, VP: 1, EP: 1, DP: 8, Zero: 1, MicroBatch: 1, Placement: "dp", Schedule: "1f1b", Recompute: "none"}, StepTimeS: float64(5 - i), MemoryGiB: 10})
	}
	st := explore.State{Space: "explorer", Next: 5, Evaluated: 6, Feasible: 5}
	if err := d.CommitBatch(id, st, recs, nil); err != nil {
		t.Fatal(err)
	}
	st.Done = true
	if err := d.CommitBatch(id, st, nil, []int{0, 2}); err != nil {
		t.Fatal(err)
	}
	got, err := d.States(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	want := st
	want.Records = []explore.Record{recs[1], recs[3], recs[4]}
	if diff := cmp.Diff(map[string]*explore.State{"explorer": &want}, got); diff != "" {
		t.Errorf("states after the drop (-want +got):\n%s", diff)
	}
	// Make it a version 1 file.
	for _, q := range []string{`ALTER TABLE spaces DROP COLUMN feasible`, `PRAGMA user_version = 1`} {
		if _, err := d.db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	d.Close()
	if d, err = Open(path); err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	got, err = d.States(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	want.Feasible = 3
	if diff := cmp.Diff(map[string]*explore.State{"explorer": &want}, got); diff != "" {
		t.Errorf("states of the upgraded file (-want +got):\n%s", diff)
	}
	var v int
	if err := d.db.QueryRow(`PRAGMA user_version`).Scan(&v); err != nil || v != SchemaVersion {
		t.Errorf("upgraded user_version = %d, %v; want %d", v, err, SchemaVersion)
	}
}
