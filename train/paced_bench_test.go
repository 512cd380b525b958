package train

import (
	"testing"

	"github.com/scaleacross/scaleacross/spec"
)

// pacedJob is a 32-GPU Llama 3.1 8B pipeline (tp8 pp4, 16 micro-batches)
// whose stages sit in four units behind a 1 Gb/s shared uplink each, so
// that the analytic engine reads its pass off the built order with its
// sends (linkPacedRun), under schedule kind with vp chunks per stage.
func pacedJob(kind string, vp int) *spec.Job {
	zero := 1
	return &spec.Job{
		Model: "llama3.1-8b",
		System: spec.System{GPU: "h100-sxm", GPUs: 32, Topology: &spec.Topology{Levels: []spec.Level{
			{Name: "node", Size: 8, BandwidthGbps: 15.63, LatencyUs: 57.5},
			{Name: "building", Size: 4, BandwidthGbps: 3.429, LatencyUs: 2.156, LinkCapacityGbps: 1},
		}}},
		Parallel: spec.Parallel{TP: 8, PP: 4, VP: vp, DP: 1, Zero: &zero},
		Schedule: kind,
		Training: spec.Training{SeqLen: 2048, GlobalBatch: 16, MicroBatch: 1, Precision: "bf16", Recompute: "none"},
	}
}

// BenchmarkAnalyticPaced times one analytic evaluation of pipelines
// whose pass is simulated (linkPacedRun, with uplinkShares' compute-only
// run or DualPipeV's egress lags, and the built run of the V orders),
// the candidates that cost the Explorer most in a pipelined space behind
// shared uplinks.
func BenchmarkAnalyticPaced(b *testing.B) {
	for _, x := range []struct {
		name, kind string
		vp         int
	}{{"LatencyAware", "latency-aware-1f1b", 2}, {"Interleaved", "interleaved-1f1b", 2}, {"DualPipeV", "dualpipev", 2}, {"ZBV", "zb-v", 2}} {
		b.Run(x.name, func(b *testing.B) {
			c := resolveJob(b, pacedJob(x.kind, x.vp))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Analytic(c); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
