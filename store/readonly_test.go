package store

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/scaleacross/scaleacross/explore"
)

// A read-only handle reads what a writer commits, cannot write, and
// leaves the file byte for byte as it was.
func TestOpenReadOnly(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.db")
	w, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	id, err := w.Create(Study{Name: "t", Model: "m", GPUs: 8, Spec: "model: m", Hash: "h", Options: "{}"}, time.Unix(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	recs := []explore.Record{
		{Index: 2, Candidate: explore.Candidate{TP: 2, PP: 1, Schedule: "1f1b", Recompute: "none"}, StepTimeS: 2},
		{Index: 5, Candidate: explore.Candidate{TP: 1, PP: 2, Schedule: "1f1b", Recompute: "none"}, StepTimeS: 1},
	}
	if err := w.Commit(id, explore.State{Space: "explorer", Next: 6, Evaluated: 6}, recs); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(path)
	r, err := OpenReadOnly(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if got, err := r.Fastest(ctx, id, "explorer", 1); err != nil || len(got) != 1 || got[0].Index != 5 {
		t.Errorf("Fastest = %+v, %v", got, err)
	}
	if got, err := r.Record(ctx, id, "explorer", 2); err != nil || got.Candidate.TP != 2 {
		t.Errorf("Record(2) = %+v, %v", got, err)
	}
	var nf *CandidateNotFoundError
	if _, err := r.Record(ctx, id, "explorer", 3); !errors.As(err, &nf) {
		t.Errorf("Record(3) = %v, want CandidateNotFoundError", err)
	}
	if p, err := r.Progress(ctx, id); err != nil || len(p) != 1 || p[0].Next != 6 {
		t.Errorf("Progress = %+v, %v", p, err)
	}
	if err := r.SetStatus(id, StatusFailed); err == nil {
		t.Error("SetStatus on a read-only handle succeeded")
	}
	r.Close()
	after, _ := os.ReadFile(path)
	if !bytes.Equal(before, after) {
		t.Error("the read-only handle modified the file")
	}
	for _, bad := range []string{filepath.Join(t.TempDir(), "missing.db"), writeFile(t, "empty.db", nil), writeFile(t, "text.db", []byte("model: x\n"))} {
		var fe *ForeignError
		if d, err := OpenReadOnly(bad); !errors.As(err, &fe) {
			if d != nil {
				d.Close()
			}
			t.Errorf("OpenReadOnly(%s) = %v, want a ForeignError", bad, err)
		}
		if filepath.Base(bad) == "missing.db" {
			if _, err := os.Stat(bad); err == nil {
				t.Error("OpenReadOnly created a missing file")
			}
		}
	}
}

func writeFile(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
