package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func runInfer(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var o, e bytes.Buffer
	code = Main(append([]string{"infer"}, args...), &o, &e)
	return o.String(), e.String(), code
}

// writeServeSpec writes a serving spec into a temporary directory.
func writeServeSpec(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "serve.yaml")
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

const maverickYAML = "../../examples/serve-maverick-eagle.yaml"

func TestInferMaverickJSON(t *testing.T) {
	out, errOut, code := runInfer(t, "-f", maverickYAML, "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var r map[string]any
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"ttit_ms", "ttft_ms", "tokens_per_s", "tokens_per_s_per_gpu", "accepted_tokens_per_step", "speedup", "tree", "assumptions"} {
		if _, ok := r[k]; !ok {
			t.Errorf("--json output lacks %q", k)
		}
	}
	if v, _ := r["ttit_ms"].(float64); v < 3.2 || v > 4.8 {
		t.Errorf("ttit_ms = %v, want 3.2-4.8", v)
	}
	if s, _ := r["speedup"].(float64); s <= 1 {
		t.Errorf("speedup = %v, want above 1 at batch 1", s)
	}
	if !strings.Contains(out, "acceptance is ASSUMED") {
		t.Error("output does not say the acceptance is assumed")
	}
}

func TestInferMaverickText(t *testing.T) {
	out, errOut, code := runInfer(t, "-f", maverickYAML)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	golden(t, "infer_maverick.golden", []byte(out))
}

func TestInferBadInput(t *testing.T) {
	base := `model: llama3.1-8b
system: {gpu: h100-sxm, gpus: 1}
parallel: {tp: 1}
workload: {batch: 2, input_len: 256, output_len: 512}
speculative: {method: eagle3, tree: chain:3}
`
	tests := []struct {
		name, from, to, want string
		code                 int
	}{
		{"unknown model", "llama3.1-8b", "llama3.1-9b", "model: unknown model id", 2},
		{"unknown gpu", "gpu: h100-sxm", "gpu: h1000", "system.gpu: unknown gpu id", 2},
		{"acceptance zero", "tree: chain:3}", "tree: chain:3, acceptance: [0.8, 0]}", "speculative.acceptance", 2},
		{"acceptance above one", "tree: chain:3}", "tree: chain:3, acceptance: [1.2]}", "speculative.acceptance", 2},
		{"tree not prefix-closed", "tree: chain:3}", "tree: [[0], [0, 1, 0]]}", "prefix-closed", 2},
		{"beyond KV capacity", "batch: 2, input_len: 256", "batch: 900, input_len: 8000", "capacity is", 3},
		{"unknown field", "parallel: {tp: 1}", "paralel: {tp: 1}", "paralel", 2},
		{"acceptance shorter than the tree", "tree: chain:3}", "tree: chain:3, acceptance: [0.8, 0.7]}", "speculative.acceptance: lists 2 depths but the tree is 3 deep", 2},
		{"context beyond the model's maximum", "batch: 2, input_len: 256", "batch: 2, context: 2000000, input_len: 256", "workload.context: 2000000 tokens exceed", 2},
		{"unknown engine", "parallel: {tp: 1}", "parallel: {tp: 1}\nengine: tgi", "engine: \"tgi\" unknown", 2},
		{"custom engine without host times", "parallel: {tp: 1}", "parallel: {tp: 1}\nengine: custom", "engine_overrides", 2},
		{"negative engine override", "parallel: {tp: 1}", "parallel: {tp: 1}\nengine_overrides: {host_step_us: -1}", "engine_overrides.host_step_us", 2},
		{"accepted lengths not increasing", "tree: chain:3}", "tree: chain:3, accepted_lengths: [1.8, 2.4, 2.4]}", "speculative.accepted_lengths", 2},
		{"accepted lengths shorter than the tree", "tree: chain:3}", "tree: chain:3, accepted_lengths: [1.8, 2.4]}", "speculative.accepted_lengths: lists 2 depths but the tree is 3 deep", 2},
		{"prompt beyond the model's maximum", "input_len: 256", "input_len: 200000", "workload: input_len + output_len", 2},
		{"unknown method", "method: eagle3, tree: chain:3", "method: medusa", "speculative.method: \"medusa\" unknown", 2},
		{"mtp on a model without MTP", "method: eagle3, tree: chain:3", "method: mtp", "speculative.method: mtp needs a model", 2},
		{"draft without a draft model", "method: eagle3, tree: chain:3", "method: draft", "speculative.draft_model: is required", 2},
		{"unknown draft model", "method: eagle3, tree: chain:3", "method: draft, draft_model: llama9", "speculative.draft_model: unknown model id", 2},
		{"draft of another tokenizer", "method: eagle3, tree: chain:3", "method: draft, draft_model: qwen3-30b-a3b", "speculative.draft_model: qwen3-30b-a3b has a vocabulary", 2},
		{"draft model with eagle", "tree: chain:3}", "tree: chain:3, draft_model: llama3.1-8b}", "speculative.draft_model: is used only by method draft", 2},
		{"ngram with a branching tree", "method: eagle3, tree: chain:3", "method: ngram, tree: [[0], [1]]", "speculative.tree: ngram drafts one token per depth", 2},
		{"tp across servers", "gpus: 1}\nparallel: {tp: 1}", "gpus: 16}\nparallel: {tp: 16}", "parallel.tp: tp 16 spans several h100-sxm servers", 2},
		{"negative pp", "parallel: {tp: 1}", "parallel: {tp: 1, pp: -1}", "parallel.pp", 2},
		{"pp beyond the layers", "gpus: 1}\nparallel: {tp: 1}", "gpus: 64}\nparallel: {tp: 1, pp: 64}", "parallel.pp: 64 stages exceed the 32 layers", 2},
		{"unknown graph mode", "parallel: {tp: 1}", "parallel: {tp: 1}\ncuda_graph_mode: chunky", "cuda_graph_mode", 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			body := strings.Replace(base, tc.from, tc.to, 1)
			if body == base {
				t.Fatalf("%q not in the base spec", tc.from)
			}
			_, errOut, code := runInfer(t, "-f", writeServeSpec(t, body))
			if code != tc.code {
				t.Fatalf("exit %d, want %d (stderr: %s)", code, tc.code, errOut)
			}
			if !strings.Contains(errOut, tc.want) {
				t.Errorf("stderr %q does not mention %q", errOut, tc.want)
			}
		})
	}
	if _, errOut, code := runInfer(t); code != 2 || !strings.Contains(errOut, "-f serve.yaml") {
		t.Errorf("infer without -f: exit %d, %q", code, errOut)
	}
}

func TestInferSweepAndPlot(t *testing.T) {
	dir := t.TempDir()
	for _, ext := range []string{"svg", "png"} {
		plot := filepath.Join(dir, "sweep."+ext)
		out, errOut, code := runInfer(t, "-f", "../../examples/serve-llama31-8b-eagle3.yaml", "--sweep", "batch=1,2,4,...,256", "--plot", plot, "--json")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		var rep struct {
			Points []struct {
				Batch   int     `json:"batch"`
				Speedup float64 `json:"speedup"`
			} `json:"points"`
		}
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatal(err)
		}
		if len(rep.Points) != 9 || rep.Points[8].Batch != 256 {
			t.Fatalf("sweep points %+v, want batches 1..256", rep.Points)
		}
		if rep.Points[0].Speedup <= rep.Points[8].Speedup {
			t.Errorf("speed-up does not fall with batch: %v", rep.Points)
		}
		fi, err := os.Stat(plot)
		if err != nil || fi.Size() < 1000 {
			t.Errorf("plot %s not written: %v", plot, err)
		}
	}
	if _, _, code := runInfer(t, "-f", maverickYAML, "--plot", filepath.Join(dir, "x.svg")); code != 2 {
		t.Errorf("--plot without --sweep: exit %d, want 2", code)
	}
	if _, _, code := runInfer(t, "-f", maverickYAML, "--sweep", "batch=1,2", "--plot", filepath.Join(dir, "x.pdf")); code != 2 {
		t.Errorf("--plot x.pdf: exit %d, want 2", code)
	}
}

func TestParseSweep(t *testing.T) {
	tests := []struct {
		in   string
		want []int
		bad  bool
	}{
		{"batch=1,2,4,...,64", []int{1, 2, 4, 8, 16, 32, 64}, false},
		{"batch=8,16,...,48", []int{8, 16, 32, 48}, false},
		{"batch=10,20,30,...,60", []int{10, 20, 30, 40, 50, 60}, false},
		{"batch=3", []int{3}, false},
		{"batch=4,2", nil, true},
		{"batch=...,4", nil, true},
		{"seq=1,2", nil, true},
		{"batch=0", nil, true},
	}
	for _, tc := range tests {
		got, err := parseSweep(tc.in)
		if tc.bad {
			if err == nil || ExitCode(err) != 2 {
				t.Errorf("parseSweep(%q) = %v, %v; want an exit-2 error", tc.in, got, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("parseSweep(%q): %v", tc.in, err)
			continue
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("parseSweep(%q) (-want +got):\n%s", tc.in, diff)
		}
	}
}

// TestInferSweepSaysWhereSpeculationStops: the text sweep names the batch
// where speculation stops paying and the cost that stops it, for every
// method of the examples.
func TestInferSweepSaysWhereSpeculationStops(t *testing.T) {
	for _, tc := range []struct{ file, method string }{
		{"../../examples/serve-llama31-8b-eagle3.yaml", "eagle3"},
		{"../../examples/serve-maverick-eagle.yaml", "eagle"},
		{"../../examples/serve-deepseek-v3-mtp.yaml", "mtp"},
		{"../../examples/serve-llama31-70b-draft.yaml", "draft"},
	} {
		out, errOut, code := runInfer(t, "-f", tc.file, "--sweep", "batch=1,4,16,64,256,1024")
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", tc.file, code, errOut)
		}
		if !strings.Contains(out, ", "+tc.method+", decode at context") {
			t.Errorf("%s: sweep does not name method %s:\n%s", tc.file, tc.method, out)
		}
		if i := strings.Index(out, "speculation stops paying at batch "); i >= 0 {
			if !strings.Contains(out[i:], "mostly ") {
				t.Errorf("%s: the stop line gives no cause:\n%s", tc.file, out)
			}
		} else if tc.method == "eagle3" {
			t.Errorf("%s: EAGLE-3 on one H100 stops paying by batch 1024, but the sweep does not say so:\n%s", tc.file, out)
		}
	}
}
