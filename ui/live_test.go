package ui_test

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/scaleacross/scaleacross/explore"
	"github.com/scaleacross/scaleacross/store"
)

// A plan running in another process shows up with its progress, read
// afresh on every request while the writer commits batches.
func TestLivePlanProgress(t *testing.T) {
	path := filepath.Join(t.TempDir(), "live.db")
	w, err := store.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	spec := "model: llama3.1-8b\nsystem: {gpu: h100-sxm, gpus: 8}\ntraining: {seq_len: 4096, global_batch: 8, precision: bf16}\n"
	id, err := w.Create(store.Study{Name: "live", Model: "llama3.1-8b", GPUs: 8, Spec: spec, Hash: "h", Options: "{}"}, time.Unix(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	rec := explore.Record{Index: 3, Candidate: explore.Candidate{TP: 8, CP: 1, PP: 1, VP: 1, EP: 1, DP: 1, Zero: 1, MicroBatch: 1, SP: true,
		Placement: "tp", Schedule: "1f1b", Recompute: "none"}, StepTimeS: 1.5, MFU: 0.4, MemoryGiB: 30}
	if err := w.Commit(id, explore.State{Space: explore.ExplorerSpace, Next: 40, Evaluated: 40, Candidates: 100}, []explore.Record{rec}); err != nil {
		t.Fatal(err)
	}
	ts := newServer(t, path)
	_, body := get(t, ts, "/?format=json", false)
	if !strings.Contains(body, `"status": "running"`) || !strings.Contains(body, `"progress": 0.4`) {
		t.Errorf("list of a running plan:\n%s", body)
	}
	if err := w.Commit(id, explore.State{Space: explore.ExplorerSpace, Next: 80, Evaluated: 80, Candidates: 100}, nil); err != nil {
		t.Fatal(err)
	}
	code, page := get(t, ts, "/studies/1", false)
	if code != 200 || !strings.Contains(page, "80.0%") || !strings.Contains(page, "tp8 cp1 pp1") {
		t.Errorf("study page of a running plan (status %d) lacks the new progress or the candidate:\n%s", code, page)
	}
	if err := w.SetStatus(id, store.StatusInterrupted); err != nil {
		t.Fatal(err)
	}
	if _, body := get(t, ts, "/?format=json", false); !strings.Contains(body, `"status": "interrupted"`) {
		t.Errorf("status change not shown:\n%s", body)
	}
}
