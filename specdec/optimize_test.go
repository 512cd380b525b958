package specdec

import (
	"math"
	"testing"
	"time"
)

// forests enumerates every ordered forest of exactly m nodes whose roots
// sit at depth k (ranks contiguous from 0), as lists of root paths.
func forests(prefix []int, k, m, maxDepth int) [][][]int {
	if m == 0 {
		return [][][]int{nil}
	}
	if k > maxDepth {
		return nil
	}
	var out [][][]int
	var rec func(rank, left int, acc [][]int)
	rec = func(rank, left int, acc [][]int) {
		if left == 0 {
			out = append(out, append([][]int(nil), acc...))
			return
		}
		for s := 1; s <= left; s++ {
			p := append(append([]int(nil), prefix...), rank)
			for _, sub := range forests(p, k+1, s-1, maxDepth) {
				next := append(append(append([][]int(nil), acc...), p), sub...)
				rec(rank+1, left-s, next)
			}
		}
	}
	rec(0, m, nil)
	return out
}

func TestOptimizeMatchesBruteForce(t *testing.T) {
	accs := []Acceptance{
		{ByDepth: []float64{0.8, 0.75, 0.7}, SiblingDecay: 0.5},
		{ByDepth: []float64{0.4, 0.9, 0.2, 0.95}, SiblingDecay: 0.9},
		{ByDepth: []float64{0.95}, SiblingDecay: 0.1},
	}
	for _, a := range accs {
		for _, D := range []int{1, 2, 3, 5} {
			o, err := Optimize(a, 7, D)
			if err != nil {
				t.Fatal(err)
			}
			best := 1.0
			for m := 1; m <= 7; m++ {
				for _, f := range forests(nil, 1, m, D) {
					tr, err := NewTree(f)
					if err != nil {
						t.Fatalf("enumerated an invalid tree %v: %v", f, err)
					}
					best = math.Max(best, a.ExpectedTokens(tr))
				}
				got := o.ExpectedTokens(m)
				if math.Abs(got-best) > 1e-9 {
					t.Errorf("acc %v depth %d nodes %d: DP %.6f, brute force %.6f", a.ByDepth, D, m, got, best)
				}
				tr := o.Tree(m)
				if tr.Size() > m || tr.Depth() > D {
					t.Errorf("Tree(%d) has %d nodes, depth %d (limit %d)", m, tr.Size(), tr.Depth(), D)
				}
				if e := a.ExpectedTokens(tr); math.Abs(e-got) > 1e-9 {
					t.Errorf("rebuilt tree %v yields %.6f, DP says %.6f", tr, e, got)
				}
			}
		}
	}
}

func TestOptimizeBudgetErrors(t *testing.T) {
	a := Acceptance{ByDepth: []float64{0.8}, SiblingDecay: 0.5}
	if _, err := Optimize(a, 0, 3); err == nil {
		t.Error("Optimize with 0 nodes: nil error")
	}
	if _, err := Optimize(a, 8, 0); err == nil {
		t.Error("Optimize with depth 0: nil error")
	}
	if _, err := Optimize(Acceptance{ByDepth: []float64{1.5}, SiblingDecay: 0.5}, 8, 3); err == nil {
		t.Error("Optimize with acceptance 1.5: nil error")
	}
}

// TestOptimizeFast checks the bound: 128 nodes, depth 12 within
// 100 ms (best of three runs, to ride out a busy machine).
func TestOptimizeFast(t *testing.T) {
	if raceEnabled {
		t.Skip("timing is meaningless under the race detector")
	}
	a, _ := DefaultAcceptance(EAGLE3)
	best := time.Hour
	for i := 0; i < 3; i++ {
		start := time.Now()
		if _, err := Optimize(a, 128, 12); err != nil {
			t.Fatal(err)
		}
		best = min(best, time.Since(start))
	}
	if best > 100*time.Millisecond {
		t.Errorf("Optimize(128 nodes, depth 12) took %v, want under 100ms", best)
	}
}

func BenchmarkOptimize128x12(b *testing.B) {
	a, _ := DefaultAcceptance(EAGLE3)
	for b.Loop() {
		if _, err := Optimize(a, 128, 12); err != nil {
			b.Fatal(err)
		}
	}
}
