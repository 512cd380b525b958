package train

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/scaleacross/scaleacross/engine/model"
)

func tinyCorpus(t *testing.T) *Corpus {
	t.Helper()
	var b strings.Builder
	for i := 0; i < 80; i++ {
		b.WriteString("Ge1:1 In the beginning God created the heaven and the earth.\n")
	}
	b.WriteString("Ruth1:1 Now it came to pass in the days when the judges ruled, that there was a famine in the land.\n")
	c, err := ParseKJV(strings.NewReader(b.String()), "Ruth")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestTrainingIsDeterministicAndCheckpoints trains a tiny target and
// draft twice with one seed and requires byte-identical weight files, a
// falling loss and checkpoints on disk.
func TestTrainingIsDeterministicAndCheckpoints(t *testing.T) {
	c := tinyCorpus(t)
	cfg := model.Config{Dim: 16, Layers: 1, Heads: 2, KVHeads: 1, FF: 32, Vocab: 256, Context: 32, Tied: true, RopeBase: 10000}
	run := func(dir string) ([]byte, []byte, float64, *bytes.Buffer) {
		rng := rand.New(rand.NewPCG(3, 1))
		m, _ := model.NewTarget(cfg, rng)
		d, _ := model.NewDraft(cfg, 0, rng)
		var log bytes.Buffer
		o := Options{Steps: 30, Batch: 2, SeqLen: 32, LR: 1e-2, Seed: 3, Workers: 1, Log: &log, Checkpoint: dir}
		bpb, err := Target(m, c, o)
		if err != nil {
			t.Fatal(err)
		}
		o.Steps = 5
		if _, err := Draft(m, d, c, o); err != nil {
			t.Fatal(err)
		}
		tw, err := os.ReadFile(filepath.Join(dir, model.TargetFile))
		if err != nil {
			t.Fatal(err)
		}
		dw, err := os.ReadFile(filepath.Join(dir, model.DraftFile))
		if err != nil {
			t.Fatal(err)
		}
		return tw, dw, bpb, &log
	}
	t1, d1, bpb, log := run(t.TempDir())
	t2, d2, _, _ := run(t.TempDir())
	if !slices.Equal(t1, t2) || !slices.Equal(d1, d2) {
		t.Fatal("two runs with the same seed wrote different weights")
	}
	if !strings.Contains(log.String(), "target step 30/30") || !strings.Contains(log.String(), "draft step 5/5") {
		t.Fatalf("progress output missing:\n%s", log)
	}
	if bpb >= 8 {
		t.Fatalf("held-out %.2f bits/byte after training; the untrained model is about 8", bpb)
	}
}

func TestParseKJVRejectsMissingBook(t *testing.T) {
	if _, err := ParseKJV(strings.NewReader("Ge1:1 In the beginning\n"), "Ruth"); err == nil {
		t.Fatal("a corpus without the held-out book was accepted")
	}
}
