package spec

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const maverickServe = `
model: llama4-maverick
system: {gpu: h100-sxm, gpus: 8}
parallel: {tp: 8, ep: 1}
precision: fp8
workload: {batch: 1, context: 8192, input_len: 1000, output_len: 1000}
speculative:
  method: eagle
  draft_layers: 3
  tree: auto
  acceptance: [0.8, 0.75, 0.7]
`

func TestParseServeDesignExample(t *testing.T) {
	s, err := ParseServe([]byte(maverickServe))
	if err != nil {
		t.Fatal(err)
	}
	want := &Serve{
		Model: "llama4-maverick", System: ServeSystem{GPU: "h100-sxm", GPUs: 8},
		Parallel: ServeParallel{TP: 8, EP: 1, DP: 1}, Precision: "fp8", KVPrecision: "bf16", ActivationPrecision: "bf16",
		Workload: Workload{Batch: 1, Context: 8192, InputLen: 1000, OutputLen: 1000},
		Speculative: &Speculative{Method: "eagle", DraftLayers: 3, Tree: TreeSpec{Auto: true},
			Acceptance: []float64{0.8, 0.75, 0.7}, MaxNodes: 64, MaxDepth: 10},
	}
	if diff := cmp.Diff(want, s); diff != "" {
		t.Errorf("ParseServe (-want +got):\n%s", diff)
	}
}

func TestParseServeRejects(t *testing.T) {
	tests := []struct {
		name, from, to, field string
	}{
		{"acceptance zero", "[0.8, 0.75, 0.7]", "[0.8, 0, 0.7]", "speculative.acceptance"},
		{"acceptance above one", "[0.8, 0.75, 0.7]", "[1.3]", "speculative.acceptance"},
		{"bad tree word", "tree: auto", "tree: bushy", "speculative.tree"},
		{"method", "method: eagle", "method: medusa", "speculative.method"},
		{"precision", "precision: fp8", "precision: int3", "precision"},
		{"int4 kv", "precision: fp8", "precision: fp8\nkv_precision: int4", "kv_precision"},
		{"int4 activations", "precision: fp8", "precision: fp8\nactivation_precision: int4", "activation_precision"},
		{"batch", "batch: 1,", "batch: 0,", "workload.batch"},
		{"tp", "tp: 8,", "tp: 3,", "parallel.tp"},
		{"unknown field", "precision: fp8", "precison: fp8", "precison"},
		{"no model", "model: llama4-maverick", "model: ''", "model"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := strings.Replace(maverickServe, tc.from, tc.to, 1)
			if in == maverickServe {
				t.Fatalf("replacement %q not found", tc.from)
			}
			_, err := ParseServe([]byte(in))
			var se *Error
			if !errors.As(err, &se) {
				t.Fatalf("error %v is not a spec.Error", err)
			}
			if !strings.Contains(err.Error(), tc.field) {
				t.Errorf("error %q does not name %s", err, tc.field)
			}
		})
	}
}

// TestParseServeInt4Weights: int4 (AWQ, GPTQ) is a weight format: the
// spec takes it for precision and nowhere else (TestParseServeRejects).
func TestParseServeInt4Weights(t *testing.T) {
	s, err := ParseServe([]byte(strings.Replace(maverickServe, "precision: fp8", "precision: int4", 1)))
	if err != nil {
		t.Fatal(err)
	}
	if s.Precision != "int4" || s.KVPrecision != "bf16" || s.ActivationPrecision != "bf16" {
		t.Errorf("precision %q, kv %q, activations %q; want int4, bf16, bf16", s.Precision, s.KVPrecision, s.ActivationPrecision)
	}
}
