package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const engineWeights = "../../engine/testdata/weights"

func runEngine(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var o, e bytes.Buffer
	code = Main(append([]string{"engine"}, args...), &o, &e)
	return o.String(), e.String(), code
}

// TestEngineBadInputExitsTwo covers a prompt longer than the context, a
// tree deeper than supported, an unknown spec and missing weights.
func TestEngineBadInputExitsTwo(t *testing.T) {
	long := strings.Repeat("a", 300)
	deep := "[" + strings.TrimSuffix(strings.Repeat("[0],", 1), ",")
	for i := 2; i <= 13; i++ {
		deep += ",[" + strings.TrimSuffix(strings.Repeat("0,", i), ",") + "]"
	}
	deep += "]"
	for name, args := range map[string][]string{
		"long prompt":  {"generate", "--weights", engineWeights, "--prompt", long},
		"deep chain":   {"generate", "--weights", engineWeights, "--prompt", "In the", "--spec", "chain:13"},
		"deep tree":    {"generate", "--weights", engineWeights, "--prompt", "In the", "--spec", deep},
		"bad spec":     {"generate", "--weights", engineWeights, "--prompt", "In the", "--spec", "bush"},
		"no weights":   {"generate", "--weights", t.TempDir(), "--prompt", "In the"},
		"no prompt":    {"generate", "--weights", engineWeights},
		"bad temp":     {"generate", "--weights", engineWeights, "--prompt", "x", "--temperature", "-1"},
		"bench bad T":  {"bench", "--weights", engineWeights, "--temperatures", "hot"},
		"train no txt": {"train"},
	} {
		_, errOut, code := runEngine(t, args...)
		if code != ExitBadInput {
			t.Errorf("%s: exit %d, want %d (%s)", name, code, ExitBadInput, errOut)
		}
	}
}

func TestEngineBadWeightFileExitsTwo(t *testing.T) {
	dir := t.TempDir()
	data, err := os.ReadFile(filepath.Join(engineWeights, "target.saw"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "target.saw"), data[:len(data)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	_, errOut, code := runEngine(t, "generate", "--weights", dir, "--prompt", "In the", "--spec", "none")
	if code != ExitBadInput || !strings.Contains(errOut, "truncated") {
		t.Fatalf("exit %d, %q; want exit 2 naming the truncation", code, errOut)
	}
}

// TestEngineGenerateGreedyIdentical runs generate through the CLI with
// and without speculation.
func TestEngineGenerateGreedyIdentical(t *testing.T) {
	var texts []string
	for _, spec := range []string{"none", "tree", "chain:3"} {
		out, errOut, code := runEngine(t, "generate", "--weights", engineWeights, "--prompt", "And Ruth said, ", "--max-tokens", "40", "--spec", spec, "--json")
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", spec, code, errOut)
		}
		var r generateResult
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatal(err)
		}
		texts = append(texts, r.Text)
	}
	if texts[0] != texts[1] || texts[0] != texts[2] {
		t.Fatalf("greedy outputs differ: %q", texts)
	}
}

// TestEngineBenchWritesAcceptanceForInfer runs a small bench, writes the
// measured acceptance and feeds it to infer.
func TestEngineBenchWritesAcceptanceForInfer(t *testing.T) {
	dir := t.TempDir()
	acc := filepath.Join(dir, "acc.yaml")
	out, errOut, code := runEngine(t, "bench", "--weights", engineWeights, "--heldout", "../../engine/testdata/heldout.txt",
		"--prompts", "2", "--max-tokens", "24", "--specs", "chain:2;tree", "--temperatures", "0", "--acceptance-out", acc, "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var r benchResult
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	if len(r.Cases) != 2 || r.Cases[1].AcceptedPerStep < 1 {
		t.Fatalf("bench cases %+v", r.Cases)
	}
	for _, c := range r.Cases {
		// The decode phase excludes the prefills, so it emits fewer tokens
		// (one per prompt) in less time; both rates must be set.
		if !(c.DecodeTokensPerS > 0 && c.DecodePlainPerS > 0 && c.DecodeSpeedup > 0) {
			t.Fatalf("%s: decode-phase rates %g and %g (speed-up %g), want positive", c.Spec, c.DecodeTokensPerS, c.DecodePlainPerS, c.DecodeSpeedup)
		}
	}
	snippet, err := os.ReadFile(acc)
	if err != nil {
		t.Fatal(err)
	}
	body := "model: llama3.1-8b\nsystem: {gpu: h100-sxm, gpus: 1}\nworkload: {batch: 1, context: 2048, input_len: 512, output_len: 256}\n" + string(snippet)
	spec := writeServeSpec(t, body)
	iout, ierr, icode := runInfer(t, "-f", spec, "--json")
	if icode != 0 {
		t.Fatalf("infer on the measured acceptance: exit %d: %s\n%s", icode, ierr, body)
	}
	if !strings.Contains(iout, "accepted_tokens_per_step") || !strings.Contains(iout, "measured") && !strings.Contains(iout, "from the spec") {
		t.Fatalf("infer output does not use the measured acceptance: %s", iout)
	}
}

// TestEngineTrainDraftOnly trains a tiny pair through the CLI, then only
// its draft (--target-from) with its own SwiGLU width: the draft-only
// run must copy the target unchanged and write the same draft as the
// whole run with that seed, of the narrower width.
func TestEngineTrainDraftOnly(t *testing.T) {
	dir := t.TempDir()
	corpus := filepath.Join(dir, "kjv.txt")
	var b strings.Builder
	for i := 0; i < 80; i++ {
		b.WriteString("Ge1:1 In the beginning God created the heaven and the earth.\n")
	}
	b.WriteString("Ruth1:1 Now it came to pass in the days when the judges ruled, that there was a famine in the land.\n")
	if err := os.WriteFile(corpus, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	whole, part := filepath.Join(dir, "whole"), filepath.Join(dir, "part")
	shape := []string{"--corpus", corpus, "--dim", "16", "--layers", "1", "--heads", "2", "--kv-heads", "1", "--ff", "32", "--context", "32",
		"--seq", "32", "--batch", "2", "--draft-seq", "32", "--draft-batch", "2", "--draft-steps", "3", "--draft-ff", "16", "--workers", "1", "--seed", "5"}
	if _, errOut, code := runEngine(t, append([]string{"train", "--out", whole, "--steps", "4"}, shape...)...); code != 0 {
		t.Fatalf("whole run: exit %d: %s", code, errOut)
	}
	if _, errOut, code := runEngine(t, append([]string{"train", "--out", part, "--target-from", whole}, shape...)...); code != 0 {
		t.Fatalf("draft-only run: exit %d: %s", code, errOut)
	}
	for _, f := range []string{"target.saw", "draft.saw"} {
		a, err := os.ReadFile(filepath.Join(whole, f))
		if err != nil {
			t.Fatal(err)
		}
		p, err := os.ReadFile(filepath.Join(part, f))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a, p) {
			t.Errorf("%s of the draft-only run differs from the whole run's", f)
		}
	}
	e, err := loadEngine(part, true, "fp32", 0)
	if err != nil {
		t.Fatal(err)
	}
	if e.D.FF != 16 || e.D.Layer.W2.Shape[1] != 16 {
		t.Errorf("draft width %d (w2 %v), want 16", e.D.FF, e.D.Layer.W2.Shape)
	}
	if _, errOut, code := runEngine(t, append([]string{"train", "--out", part, "--target-from", dir}, shape...)...); code != ExitBadInput {
		t.Errorf("--target-from a directory without target.saw: exit %d, want %d (%s)", code, ExitBadInput, errOut)
	}
}
