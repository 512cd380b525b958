package infer

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/scaleacross/scaleacross/fault"
	"github.com/scaleacross/scaleacross/hardware"
	"github.com/scaleacross/scaleacross/model"
	"github.com/scaleacross/scaleacross/spec"
)

// maverickServe is the Maverick serving example with a measured
// acceptance vector added.
func maverickServe(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile("../examples/serve-maverick-eagle.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return string(data) + "  acceptance: [0.8, 0.75, 0.7]\n"
}

func TestTreeOf(t *testing.T) {
	for _, tc := range []struct {
		tree  string
		nodes int
		bad   bool
	}{{"chain:3", 3, false}, {"[[0], [1], [0, 0]]", 3, false}, {"auto", 0, false}, {"[[0], [1, 0]]", 0, true}} {
		s, err := spec.ParseServe([]byte(strings.Replace(maverickServe(t), "tree: auto ", "tree: "+tc.tree+" ", 1)))
		if err != nil {
			t.Fatalf("tree %s: %v", tc.tree, err)
		}
		tr, err := TreeOf(s.Speculative.Tree)
		if tc.bad {
			var fe *fault.FieldError
			if !errors.As(err, &fe) || fe.Field != "speculative.tree" || !strings.Contains(err.Error(), "prefix-closed") {
				t.Errorf("tree %s: error %v, want a speculative.tree error", tc.tree, err)
			}
			continue
		}
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

func TestAcceptanceOfUsesTheSpec(t *testing.T) {
	s, err := spec.ParseServe([]byte(maverickServe(t)))
	if err != nil {
		t.Fatal(err)
	}
	a, err := AcceptanceOf(s.Speculative)
	if err != nil || a.Assumed || len(a.ByDepth) != 3 || a.ByDepth[0] != 0.8 {
		t.Errorf("spec acceptance should be used as given (not assumed): %+v, %v", a, err)
	}
}

// TestFromSpecEngine: the spec's engine selects its profile, each
// engine_overrides field replaces the profile's constant, and
// accepted_lengths becomes the per-depth acceptance.
func TestFromSpecEngine(t *testing.T) {
	body := `model: llama3.1-8b
system: {gpu: h100-sxm, gpus: 1}
engine: trtllm
engine_overrides: {host_step_us: 100, host_per_seq_us: 5, kernel_graph_us: 2, kernel_eager_us: 9, host_overlap_spec: true, draft_overlap: 0.5}
workload: {batch: 4, input_len: 256, output_len: 512}
speculative: {method: eagle3, tree: chain:3, accepted_lengths: [1.8, 2.4, 2.8]}
`
	s, err := spec.ParseServe([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	j, err := FromSpec(s, model.Lookup, hardware.Lookup)
	if err != nil {
		t.Fatal(err)
	}
	e := j.Config.Eff
	if e.Engine != "trtllm" || !e.OneShotAllReduce || e.HostStepUs != 100 || e.HostPerSeqUs != 5 || e.KernelGraphUs != 2 ||
		e.KernelEagerUs != 9 || !e.HostOverlapSpec || e.DraftOverlap != 0.5 {
		t.Errorf("overrides not applied: %+v", e)
	}
	if got := j.Speculative.Acceptance.ChainTokens(3); got < 2.8-1e-9 || got > 2.8+1e-9 {
		t.Errorf("accepted_lengths [1.8 2.4 2.8]: chain 3 gives %.4f tokens, want 2.8", got)
	}
	// Draft overlap and host overlap shorten the speculative step.
	plain := *j.Config
	plain.Eff.DraftOverlap, plain.Eff.HostOverlapSpec = 0, false
	a, err := Predict(j.Config, j.Workload, j.Speculative)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Predict(&plain, j.Workload, j.Speculative)
	if err != nil {
		t.Fatal(err)
	}
	if a.SpecStepMs >= b.SpecStepMs {
		t.Errorf("overlap should shorten the step: %.3f ms with, %.3f ms without", a.SpecStepMs, b.SpecStepMs)
	}
}
