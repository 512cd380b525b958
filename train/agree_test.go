package train

import (
	"math"
	"testing"

	"github.com/scaleacross/scaleacross/spec"
)

// agreeJob is a llama3.1-8b job of pipelineGen's shape (sequence 2048,
// micro-batch 1, no recompute) on the given levels.
func agreeJob(kind string, tp, pp, vp, dp, zero, m int, levels ...spec.Level) *spec.Job {
	return &spec.Job{Model: "llama3.1-8b", System: spec.System{GPU: "h100-sxm", GPUs: tp * pp * dp, Topology: &spec.Topology{Levels: levels}},
		Parallel: spec.Parallel{TP: tp, PP: pp, VP: vp, DP: dp, Zero: &zero}, Schedule: kind,
		Training: spec.Training{SeqLen: 2048, GlobalBatch: dp * m, MicroBatch: 1, Precision: "bf16", Recompute: "none"}}
}

// ZB-V's data-parallel tail is read off its built order (builtTail), as
// the event engine runs it, so on links of their own the engines agree to
// rounding. Its cool-down defers the weight gradients, so both chunks'
// reductions come after the pass, not the second one under the V's way
// back as dataParallelTail's closed form has it: ZeRO-0 on 1 Gb/s came
// out 10.9% below the event engine (32.56 against 36.53 s); and each
// chunk's ZeRO-1 gather is due by its own first forward, not all by the
// stage's first: 13.6% above (1.584 against 1.394 s).
func TestZBVTailReadOffBuiltOrder(t *testing.T) {
	for _, j := range []*spec.Job{
		agreeJob("zb-v", 2, 4, 2, 2, 1, 1, spec.Level{Name: "a", Size: 16, BandwidthGbps: 23.3, LatencyUs: 1.06}),
		agreeJob("zb-v", 8, 2, 2, 2, 0, 1, spec.Level{Name: "a", Size: 32, BandwidthGbps: 1, LatencyUs: 2.76}),
		agreeJob("zb-v", 2, 4, 2, 2, 0, 6, spec.Level{Name: "a", Size: 2, BandwidthGbps: 900, LatencyUs: 1}, spec.Level{Name: "b", Size: 8, BandwidthGbps: 3, LatencyUs: 30}),
		agreeJob("zb-v", 2, 4, 2, 2, 2, 3, spec.Level{Name: "a", Size: 16, BandwidthGbps: 5, LatencyUs: 1}),
	} {
		enginesWithin(t, j, 1e-9)
	}
}

// DualPipeV's pass is read off its built order with its sends always
// (dualPipeVPaced), with no closed form on top: where no uplink is
// shared that is the event engine's run, to rounding. With messages just
// under linkPacedShare of a forward (pp 4 m 14 over 24.9 Gb/s) the pass
// was left to the closed form, 10.6% below the event engine (0.884
// against 0.989 s). Behind a shared uplink that binds once both of a
// stage's flows are counted (uplinkFlows; one stage a unit, 1.13 Gb/s
// behind 2.12 Gb/s), the closed form added the fill's crossings to busy
// time that holds them already: 29.7% above the event engine (5.544
// against 4.274 s); the built pass alone is 2.0% below.
func TestDualPipeVReadsItsBuiltPass(t *testing.T) {
	enginesWithin(t, agreeJob("dualpipev", 1, 4, 2, 1, 3, 14,
		spec.Level{Name: "a", Size: 1, BandwidthGbps: 1.4, LatencyUs: 1.11},
		spec.Level{Name: "b", Size: 4, BandwidthGbps: 24.9, LatencyUs: 1}), 1e-9)
	shared := agreeJob("dualpipev", 1, 4, 2, 1, 0, 8,
		spec.Level{Name: "a", Size: 1, BandwidthGbps: math.E, LatencyUs: math.E},
		spec.Level{Name: "b", Size: 4, BandwidthGbps: 1.1331484530668263, LatencyUs: math.E, LinkCapacityGbps: 2.117000016612675})
	enginesWithin(t, shared, 0.05)
}
