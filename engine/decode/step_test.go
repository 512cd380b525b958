package decode

import (
	"math"
	"slices"
	"sort"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/scaleacross/scaleacross/specdec"
)

// TestTopKInto checks the selection against a stable sort (largest
// first, lowest id on ties) and that its scratch is left clear.
func TestTopKInto(t *testing.T) {
	for _, c := range []struct {
		name string
		z    []float32
		k    int
	}{
		{"one", []float32{1, 3, 2}, 1},
		{"ties lowest first", []float32{2, 5, 5, 1, 5}, 3},
		{"one with ties", []float32{4, 4, 1}, 1},
		{"all", []float32{0.5, -1, 2, 2}, 4},
		{"negative", []float32{-3, -1, -2, -1}, 2},
	} {
		t.Run(c.name, func(t *testing.T) {
			want := make([]int, len(c.z))
			for i := range want {
				want[i] = i
			}
			sort.SliceStable(want, func(a, b int) bool { return c.z[want[a]] > c.z[want[b]] })
			taken := make([]bool, len(c.z))
			got := topKInto(make([]int, c.k), c.z, taken)
			if d := cmp.Diff(want[:c.k], got); d != "" {
				t.Errorf("topKInto(%v, %d) (-want +got):\n%s", c.z, c.k, d)
			}
			if slices.Contains(taken, true) {
				t.Errorf("scratch left %v, want all false", taken)
			}
		})
	}
}

// TestProbsIntoReusesBuffers checks that a distribution written into a
// buffer that held another one is the one a fresh buffer gets, greedy
// (the old argmax's one must be cleared) and sampled.
func TestProbsIntoReusesBuffers(t *testing.T) {
	a := []float32{0.1, 2, -1, 0.5}
	b := []float32{3, 0, 1, 3}
	for _, temp := range []float64{0, 0.7, 1} {
		buf := probsInto(make(specdec.Dist, len(a)), a, temp)
		got := probsInto(buf, b, temp)
		want := probsInto(make(specdec.Dist, len(b)), b, temp)
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("temperature %g (-fresh +reused):\n%s", temp, d)
		}
	}
	if got := probsInto(make(specdec.Dist, 4), b, 0); got[0] != 1 || got[3] != 0 {
		t.Errorf("greedy on a tie: %v, want the lowest id one-hot", got)
	}
	var s float64
	for _, v := range probsInto(make(specdec.Dist, 4), a, 1) {
		s += v
	}
	if math.Abs(s-1) > 1e-12 {
		t.Errorf("sampled distribution sums to %g", s)
	}
}

// TestStepDistsReset checks that a step's distributions come from that
// step's logits: after reset, a node's target and draft distributions
// are built again rather than kept from the step before.
func TestStepDistsReset(t *testing.T) {
	const V = 3
	for _, temp := range []float64{0, 1} {
		d := newStepDists(2, V, temp)
		d.logits, d.ql = []float32{1, 0, 0, 0, 1, 0}, [][]float32{{0, 0, 1}, nil}
		first, draft := slices.Clone(d.Target(1)), slices.Clone(d.Draft(0))
		if d.Draft(1) != nil {
			t.Errorf("temperature %g: a leaf has draft distribution %v, want none", temp, d.Draft(1))
		}
		d.reset()
		d.logits, d.ql = []float32{1, 0, 0, 0, 0, 1}, [][]float32{{1, 0, 0}, nil}
		if d := cmp.Diff(probsInto(make(specdec.Dist, V), []float32{0, 0, 1}, temp), d.Target(1)); d != "" {
			t.Errorf("temperature %g: target after reset (-want +got):\n%s", temp, d)
		}
		if d := cmp.Diff(probsInto(make(specdec.Dist, V), []float32{1, 0, 0}, temp), d.Draft(0)); d != "" {
			t.Errorf("temperature %g: draft after reset (-want +got):\n%s", temp, d)
		}
		if slices.Equal(first, d.Target(1)) || slices.Equal(draft, d.Draft(0)) {
			t.Errorf("temperature %g: distributions unchanged by new logits", temp)
		}
	}
}

// TestSpeculativeStepAllocations checks that the speculative loop's own
// bookkeeping allocates nothing per step: the allocations of a longer
// greedy chain:2 generation over a shorter one, per extra verify step,
// stay within what the model passes and specdec.Verify make (the
// features and logits of the verify, draft and catch-up passes, six,
// and Verify's per-node child lists and its result, under a dozen).
// The loop before its per-generation buffers allocated 37.5 per step
// here (and 48 with the committed pair, BenchmarkGenerateChain2).
func TestSpeculativeStepAllocations(t *testing.T) {
	e := tinyEngine(t, 17)
	prompt := []int{3, 1, 4, 1, 5}
	o := Options{Tree: specdec.Chain(2)}
	count := func(n int) (allocs float64, steps int) {
		o.MaxTokens = n
		r, err := e.Generate(prompt, o)
		if err != nil {
			t.Fatal(err)
		}
		return testing.AllocsPerRun(20, func() {
			if _, err := e.Generate(prompt, o); err != nil {
				t.Fatal(err)
			}
		}), r.Stats.Steps
	}
	a0, s0 := count(8)
	a1, s1 := count(40)
	if s1 <= s0 {
		t.Fatalf("%d steps for 40 tokens, %d for 8", s1, s0)
	}
	per := (a1 - a0) / float64(s1-s0)
	t.Logf("%.1f allocations per verify step", per)
	if per > 18 {
		t.Errorf("%.1f allocations per speculative step, want at most 18", per)
	}
}
