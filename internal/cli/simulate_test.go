package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func run(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var o, e bytes.Buffer
	code = Main(args, &o, &e)
	return o.String(), e.String(), code
}

func writeSpec(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "job.yaml")
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestSimulateExample(t *testing.T) {
	out, errOut, code := run(t, "simulate", "-f", "../../examples/llama3-405b-16k.yaml")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	golden(t, "simulate_llama3-405b-16k.golden", []byte(out))
}

func TestSimulateJSON(t *testing.T) {
	out, errOut, code := run(t, "simulate", "-f", "../../examples/llama3-405b-16k.yaml", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var doc map[string]any
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("invalid JSON: %v", err)
	}
	for _, k := range []string{"step_time_s", "tokens_per_s_per_gpu", "model_tflops_per_gpu", "mfu", "memory_gib_per_gpu", "feasible", "breakdown"} {
		if _, ok := doc[k]; !ok {
			t.Errorf("JSON lacks %q", k)
		}
	}
	again, _, _ := run(t, "simulate", "-f", "../../examples/llama3-405b-16k.yaml", "--json")
	if again != out {
		t.Errorf("two runs differ")
	}
}

func TestSimulateDoesNotFit(t *testing.T) {
	p := writeSpec(t, `
model: llama3.1-405b
system: {gpu: h100-sxm, gpus: 64}
parallel: {tp: 8, pp: 8, dp: 1}
training: {seq_len: 8192, global_batch: 16, micro_batch: 1, precision: bf16}
`)
	out, errOut, code := run(t, "simulate", "-f", p)
	if code != ExitNoFit {
		t.Fatalf("exit %d, want 3: %s", code, errOut)
	}
	if !strings.Contains(out, "memory per GPU") || !strings.Contains(errOut, "does not fit") {
		t.Errorf("no memory breakdown or reason printed:\n%s\n%s", out, errOut)
	}
}

func TestSimulateBadInput(t *testing.T) {
	tests := map[string]struct{ spec, want string }{
		"malformed":     {"model: [", "invalid spec"},
		"unknown field": {"model: llama3-8b\nsystem: {gpu: h100-sxm, gpus: 8}\nbogus: 1\n", "bogus"},
		"unknown model": {"model: llama3-9b\nsystem: {gpu: h100-sxm, gpus: 8}\ntraining: {seq_len: 4096, global_batch: 8}\n", "llama3-8b"},
		"unknown gpu":   {"model: llama3-8b\nsystem: {gpu: h100-pcie, gpus: 8}\ntraining: {seq_len: 4096, global_batch: 8}\n", "h100-sxm"},
		"bad degrees":   {"model: llama3-8b\nsystem: {gpu: h100-sxm, gpus: 8}\nparallel: {tp: 2, dp: 2}\ntraining: {seq_len: 4096, global_batch: 8}\n", "parallel"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			_, errOut, code := run(t, "simulate", "-f", writeSpec(t, tt.spec))
			if code != ExitBadInput {
				t.Errorf("exit %d, want 2", code)
			}
			if !strings.Contains(errOut, tt.want) {
				t.Errorf("stderr %q does not mention %q", errOut, tt.want)
			}
		})
	}
	if _, _, code := run(t, "simulate"); code != ExitBadInput {
		t.Errorf("no -f: exit %d", code)
	}
	if _, _, code := run(t, "simulate", "-f", "/nonexistent.yaml"); code != ExitBadInput {
		t.Errorf("missing file: exit %d", code)
	}
}

func TestValidateCommand(t *testing.T) {
	out, errOut, code := run(t, "validate", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var doc struct {
		Rows        []map[string]any `json:"rows"`
		Skipped     []map[string]any `json:"skipped"`
		Groups      []map[string]any `json:"groups"`
		MAPE        float64          `json:"mape_pct"`
		Calibration map[string]any   `json:"calibration"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Rows)+len(doc.Skipped) != 310 || len(doc.Groups) == 0 || doc.MAPE <= 0 || doc.Calibration["gemm_efficiency"] == nil {
		t.Errorf("validate JSON: %d rows, %d skipped, %d groups, MAPE %v, calibration %v", len(doc.Rows), len(doc.Skipped), len(doc.Groups), doc.MAPE, doc.Calibration)
	}
	text, _, _ := run(t, "validate")
	for _, want := range []string{"MAPE by group", "moe", "deepseek-v3", "llama3-405b-16384-cp16"} {
		if !strings.Contains(text, want) {
			t.Errorf("validate text lacks %q", want)
		}
	}
}

func TestSimulateTraceAndGantt(t *testing.T) {
	dir := t.TempDir()
	tr, gantt := filepath.Join(dir, "step.json"), filepath.Join(dir, "step.svg")
	out, errOut, code := run(t, "simulate", "-f", "../../examples/gpt3-175b-zb.yaml", "--trace", tr, "--gantt", gantt)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, "engine event") {
		t.Errorf("--trace did not select the event engine")
	}
	for _, p := range []string{tr, gantt} {
		if st, err := os.Stat(p); err != nil || st.Size() == 0 {
			t.Errorf("%s not written: %v", p, err)
		}
	}
	if _, _, code := run(t, "simulate", "-f", "../../examples/gpt3-175b-zb.yaml", "--engine", "analytic", "--trace", tr); code != ExitBadInput {
		t.Errorf("--trace with the analytic engine: exit %d, want 2", code)
	}
	if _, _, code := run(t, "simulate", "-f", "../../examples/gpt3-175b-zb.yaml", "--engine", "quantum"); code != ExitBadInput {
		t.Errorf("unknown engine: exit %d, want 2", code)
	}
	// A file that cannot be written leaves nothing behind.
	bad := filepath.Join(dir, "missing-dir", "x.json")
	if _, _, code := run(t, "simulate", "-f", "../../examples/gpt3-175b-zb.yaml", "--trace", bad); code == 0 {
		t.Errorf("writing into a missing directory succeeded")
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp") {
			t.Errorf("temporary file left behind: %s", e.Name())
		}
	}
}

// Every job and serving example in examples/ runs cleanly.
func TestExamplesRun(t *testing.T) {
	files, err := filepath.Glob("../../examples/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no examples: %v", err)
	}
	for _, f := range files {
		base := filepath.Base(f)
		cmd := "simulate"
		switch {
		case strings.HasPrefix(base, "plan-"):
			continue // searched by the Explorer's own tests
		case strings.HasPrefix(base, "serve-"):
			cmd = "infer"
		}
		if _, errOut, code := run(t, cmd, "-f", f); code != 0 {
			t.Errorf("%s %s: exit %d: %s", cmd, base, code, errOut)
		}
	}
}

// TestSimulateEmit prints launch arguments instead of a prediction, and
// refuses an unknown framework with exit 2.
func TestSimulateEmit(t *testing.T) {
	out, errOut, code := run(t, "simulate", "-f", "../../examples/llama3-405b-16k.yaml", "--emit", "megatron")
	if code != 0 || !strings.Contains(out, "--pipeline-model-parallel-size 16") || !strings.Contains(out, "--num-virtual-stages-per-pipeline-rank 4") {
		t.Errorf("exit %d: %s\n%s", code, errOut, out)
	}
	if _, errOut, code := run(t, "simulate", "-f", "../../examples/llama3-405b-16k.yaml", "--emit", "jax"); code != 2 || !strings.Contains(errOut, "--emit") {
		t.Errorf("unknown framework: exit %d, %s", code, errOut)
	}
}
