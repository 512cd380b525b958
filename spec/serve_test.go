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
	a, err := s.Speculative.AcceptanceModel()
	if err != nil || a.Assumed {
		t.Errorf("spec acceptance should be used as given (not assumed): %+v, %v", a, err)
	}
}

func TestParseServeTrees(t *testing.T) {
	for _, tc := range []struct {
		tree  string
		nodes int
	}{{"chain:3", 3}, {"[[0], [1], [0, 0]]", 3}, {"auto", 0}} {
		s, err := ParseServe([]byte(strings.Replace(maverickServe, "tree: auto", "tree: "+tc.tree, 1)))
		if err != nil {
			t.Fatalf("tree %s: %v", tc.tree, err)
		}
		tr, err := s.Speculative.Tree.Build()
		if err != nil {
			t.Fatal(err)
		}
		if got := 0; tr != nil {
			got = tr.Size()
			if got != tc.nodes {
				t.Errorf("tree %s: %d nodes, want %d", tc.tree, got, tc.nodes)
			}
		} else if tc.nodes != 0 {
			t.Errorf("tree %s built nil", tc.tree)
		}
	}
}

func TestParseServeRejects(t *testing.T) {
	tests := []struct {
		name, from, to, field string
	}{
		{"acceptance zero", "[0.8, 0.75, 0.7]", "[0.8, 0, 0.7]", "speculative.acceptance"},
		{"acceptance above one", "[0.8, 0.75, 0.7]", "[1.3]", "speculative.acceptance"},
		{"not prefix-closed", "tree: auto", "tree: [[0], [1, 0]]", "speculative.tree"},
		{"bad tree word", "tree: auto", "tree: bushy", "speculative.tree"},
		{"method", "method: eagle", "method: medusa", "speculative.method"},
		{"precision", "precision: fp8", "precision: int3", "precision"},
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
			if !errors.As(err, &se) || se.ExitCode() != 2 {
				t.Fatalf("error %v is not a spec.Error with exit code 2", err)
			}
			if !strings.Contains(err.Error(), tc.field) {
				t.Errorf("error %q does not name %s", err, tc.field)
			}
		})
	}
}
