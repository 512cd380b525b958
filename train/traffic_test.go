package train

import (
	"math"
	"strings"
	"testing"
)

// The traffic table counts the expert all-to-all as layerWork prices it:
// a capacity factor pads every expert's tokens to the cap (twice the
// bytes at factor 2 against force-balanced routing), and recompute: moe
// re-runs the dispatch and the combine in the backward.
func TestTrafficEPFollowsRouting(t *testing.T) {
	const job = `
model: mixtral-8x7b
system: {gpu: h100-sxm, gpus: 16}
parallel: {tp: 2, pp: 1, ep: 8}
training: {seq_len: 4096, global_batch: 64, micro_batch: 1, precision: bf16, recompute: RC, ROUTING}
`
	epBytes := func(rc, routing string) float64 {
		c := resolve(t, strings.NewReplacer("RC", rc, "ROUTING", routing).Replace(job))
		r, err := Analytic(c)
		if err != nil {
			t.Fatal(err)
		}
		var b float64
		for _, l := range r.Levels {
			if l.Dim == "ep" {
				b += l.Bytes
			}
		}
		return b
	}
	balanced := epBytes("none", "moe_routing: force-balanced")
	if balanced <= 0 {
		t.Fatal("no expert traffic")
	}
	if padded := epBytes("none", "moe_capacity_factor: 2"); math.Abs(padded/balanced-2) > 1e-9 {
		t.Errorf("capacity factor 2: %.4g bytes, %.2fx the force-balanced %.4g", padded, padded/balanced, balanced)
	}
	// Dispatch (fwd) + combine (fwd) + two backward collectives = 4 of
	// the same size in bf16; recompute: moe adds a dispatch and a combine.
	if re := epBytes("moe", "moe_routing: force-balanced"); math.Abs(re/balanced-1.5) > 1e-9 {
		t.Errorf("recompute moe: %.2fx the expert traffic without recompute, want 1.5x", re/balanced)
	}
}
