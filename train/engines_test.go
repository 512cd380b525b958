package train

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"

	"github.com/scaleacross/scaleacross/hardware"
	"github.com/scaleacross/scaleacross/model"
	"github.com/scaleacross/scaleacross/schedule"
	"github.com/scaleacross/scaleacross/spec"
	"github.com/scaleacross/scaleacross/topology"
)

// The step-time agreement the tests hold the engines to. Measured over the
// fixed sample of TestEngineAgreementSpread (go test ./train -run
// TestEngineAgreementSpread -v): 639 valid jobs, median difference 0.0%,
// 90th percentile 0.7%, 95th 1.6%, worst 10.4% (mixtral-8x7b tp1 pp4 vp4
// dp8 z1 interleaved-1f1b m=4 over two levels); before ZB-V's
// data-parallel tail was read off its built order (builtTail) and
// DualPipeV's pass off its built order with its sends alone
// (dualPipeVPaced) 1.2%, 2.3% and 10.4%; before ZB-H1's
// reductions waited for its weight gradients and blocking sends over
// shared uplinks were read off the built order (dataParallelTail,
// linkPacedPass) 1.9%, 12.4% (qwen3-30b-a3b tp4 pp2 zb-h1 dp8 m=3); with
// the closed-form bubble of ZB-V (before the analytic engine read it off
// the built order, builtBubble) 0.0%, 4.1%, 6.3% and 13.6%, and before
// the engines were made to agree on GPipe's two phases, blocking sends
// (counted twice by the event engine), ZeRO-2/3 stalls, ZB-V's and
// DualPipeV's built bubbles, DualPipeV's fused share, the bottleneck
// stage's fill and drain, overlapped sends on physical links and the
// data-parallel reductions over shared uplinks as the stages finish,
// 1.0%, 8.8%, 15.7% and 46.5%. Unseeded draws of TestEnginesAgree
// (3 x 5,000 checks, -rapid.seed=1..3, about 2,000 valid each) find at
// worst 16.3% (llama3.1-8b tp1 pp8 vp4 dp4 z2 interleaved-1f1b m=8 over
// two levels; 14.8% and 16.0% for seeds 2 and 3; 16.1% and 21.6% over
// 2 x 20,000 checks, seeds 4 and 5, the latter gpt3-xl tp4 pp8 dp4 z0
// 1f1b m=6 over three levels), 99th percentile 6.5-7.1%, 95th 2.6-2.9%,
// 90th 1.4-1.5%. With ZB-V's tail and DualPipeV's pass read off their
// built orders (builtTail, dualPipeVPaced) the worst is unchanged
// (16.3%, 14.8%, 16.0%: interleaved orders), the 99th percentile
// 4.2-5.5%, 95th 1.5-1.7%, 90th 0.6-0.7%; over 20,000 checks 16.1%
// (seed 4), 21.2% (seed 5, latency-aware-1f1b pp 8 m 24 under ZeRO-3
// over three levels) and, seed 6, 23.8% (llama3.1-8b tp1 pp8 vp4 dp2
// z3 interleaved-1f1b m=8), which exceeds engineAgreementRapid: the
// interleaved orders under ZeRO-3 with no more micro-batches than
// stages, where the closed form's bubble misses the gathers of the
// embedding's and the head's chunks on the dependency chain, are the
// open tail. Before ZB-H1's reductions, blocking sends over shared
// uplinks and a heavy first stage's bubble (firstStageBubble)
// 17.3-22.4%, 8.6-9.5%, 3.5-4.1% and 2.0-2.2%; before the analytic
// engine read DualPipeV's bubble and link-paced overlapped pipelines off
// the built order (builtBubble, linkPacedPass) 29.3%, 10.0-10.3%,
// 4.7-5.7% and 2.8-3.1%. With an interleaved order's laps run at their
// slowest op (lapExcess: the embedding's and the head's chunks stalled
// by their ZeRO-2/3 gathers) seeds 1-3 find at worst 9.4%, 11.4% and
// 16.0% (the last gpt3-xl tp8 pp8 vp2 dp4 z0 interleaved-1f1b m=16 over
// three levels), 99th percentile 3.9-5.0%, 95th 1.4-1.6%, 90th 0.6%;
// over 20,000 checks 16.1% (seed 4, zb-v), 18.9% (seed 5, llama3.1-8b
// tp1 pp8 vp2 dp4 z0 zb-v m=1 over three levels) and 11.3% (seed 6,
// which found 23.8% before), 99th 4.2-4.5%; the seeded spread's 90th
// percentile 0.6%, 95th 1.5%. With ZB-V's reductions behind a shared
// uplink started off its built run (zbvTail) 9.4%, 8.9% and
// 16.0% (seeds 1-3; 99th percentile 3.8-4.9%) and 14.1%, 14.6% and 11.3%
// over 20,000 checks (seeds 4-6: mixtral-8x7b tp8 pp2 vp4 dp2 z1
// interleaved-1f1b m=2, gpt3-xl tp8 pp8 vp2 z3 latency-aware-1f1b m=8;
// 99th 3.7-4.2%). With the bubble of a stage that holds more layers
// than any other bounded by its fill and drain (heavyStageBubble) 9.4%,
// 8.9% and 13.1% (seeds 1-3, the last mixtral-8x7b tp8 pp4 vp4 dp4 z1
// interleaved-1f1b m=4; 99th percentile 3.5-4.7%) and 14.1%, 12.2% and
// 11.3% over 20,000 checks (seeds 4-6, all interleaved-1f1b pp2 vp4 z1
// m=2; 99th 3.4-3.9%). The tail is now the interleaved orders' ZeRO-1
// gather with few micro-batches. With each chunk's gather stalling its
// own first forward in both engines (stageGatherDelay) and only the
// uplink's bytes of a reduction shared behind a shared uplink
// (dpReductions.priced) seeds 1-12 over 20,000 checks find at worst
// 13.2, 9.1, 11.9, 11.9, 8.4, 10.9, 12.7, 9.8, 13.9, 11.1, 9.2 and
// 10.6% (seed 9: mixtral-8x7b tp1 pp2 vp4 dp8 z2 interleaved-1f1b m=2
// over three levels), 99th percentile 2.4-2.8%, 90th 0.3-0.4%. With the
// built pass over shared uplinks on the event engine's trunks
// (trunkSend), 1F1B and ZB-H1 read off their order up to 4p
// micro-batches (onePassPerStage), reductions started where the paced
// run has them (builtArrivals) and an interleaved order's fed stage
// priced with more micro-batches than stages (heavyStageBubble), seeds
// 1-24 found at worst 13.6, 6.0, 6.5, 6.0, 9.1, 6.0, 8.2, 6.6, 6.3, 9.0,
// 6.3, 8.0, 6.7, 6.5, 6.8, 7.5, 5.9, 8.1, 8.5, 6.7, 7.0, 13.5, 6.2 and
// 6.9%, 99th percentile 1.0-1.5%; the two above 10% were
// latency-aware-1f1b pp 8 vp 2 m 8 under ZeRO-3 with its data
// parallelism across a site link, whose gathers make every op and the
// first stage the busiest (seed 1: 3.120 against 2.747 s). With one
// group of an interleaved order read off the built order where it
// outnumbers the stages or runs ZeRO-3, and the fed bound past the
// first group, seeds 1-40 find at worst 6.7, 6.0, 6.5, 6.0, 6.7, 6.0,
// 8.2, 6.6, 6.3, 9.0, 6.3, 8.0, 6.7, 6.5, 5.7, 7.5, 5.9, 8.1, 8.5, 6.7,
// 7.0, 6.3, 6.2, 6.9, 7.3, 7.1, 7.9, 7.0, 6.7, 6.7, 5.4, 6.2, 8.9, 6.5,
// 5.6, 5.2, 6.8, 6.3, 6.7 and 7.5% (seed 10: gpt3-xl tp8 pp8 vp2 dp8
// ZeRO-3 interleaved m 16), 99th percentile 1.0-1.4%. Memory and the
// fit verdict must agree exactly. engineAgreementRapid is issue 9's 10%,
// which the 20,000-check worst of every seed measured is under.
const (
	engineAgreementP90   = 0.01 // 0.0% measured (0.7% before this stop)
	engineAgreementMax   = 0.05 // 1.7% measured (10.4% before this stop)
	engineAgreementRapid = 0.10 // 9.0% measured over 20,000 checks, seeds 1-40
)

// jobGen draws training jobs over dense and MoE models, every schedule
// and one to three topology levels (with a cross-site level at three);
// some are invalid, and the resolver refuses them.
func jobGen() *rapid.Generator[*spec.Job] {
	models := []string{"llama3.1-8b", "llama3-70b", "qwen3-30b-a3b", "mixtral-8x7b", "gpt3-xl"}
	return rapid.Custom(func(rt *rapid.T) *spec.Job {
		id := rapid.SampledFrom(models).Draw(rt, "model")
		kind := rapid.SampledFrom(schedule.Kinds()).Draw(rt, "schedule")
		tp := rapid.SampledFrom([]int{1, 2, 4, 8}).Draw(rt, "tp")
		pp := rapid.SampledFrom([]int{2, 4, 8}).Draw(rt, "pp")
		vp := kind.DefaultChunks()
		if kind == schedule.Interleaved {
			vp = rapid.SampledFrom([]int{2, 4}).Draw(rt, "vp")
		}
		if kind == schedule.LatencyAware {
			vp = rapid.SampledFrom([]int{1, 2}).Draw(rt, "vp")
		}
		ep := rapid.SampledFrom([]int{1, 1, 2, 4, 8}).Draw(rt, "ep")
		dp := rapid.SampledFrom([]int{1, 2, 4, 8}).Draw(rt, "dp")
		mbPerPipe := rapid.IntRange(1, 4*pp).Draw(rt, "micro-batches")
		zero := rapid.IntRange(0, 3).Draw(rt, "zero")
		gpus := tp * pp * dp
		levels := rapid.IntRange(1, 3).Draw(rt, "levels")
		j := &spec.Job{
			Model:    id,
			System:   spec.System{GPU: "h100-sxm", GPUs: gpus},
			Parallel: spec.Parallel{TP: tp, PP: pp, VP: vp, EP: ep, DP: dp, Zero: &zero},
			Schedule: string(kind),
			Training: spec.Training{SeqLen: 4096, GlobalBatch: dp * mbPerPipe, MicroBatch: 1, Precision: "bf16",
				Recompute: rapid.SampledFrom([]string{"none", "selective", "full"}).Draw(rt, "recompute")},
		}
		if levels > 1 && gpus >= 16 {
			lv := []spec.Level{{Name: "node", Size: 8, BandwidthGbps: 3600, LatencyUs: 1}}
			rest := gpus / 8
			if levels == 3 && rest%2 == 0 {
				lv = append(lv, spec.Level{Name: "zone", Size: rest / 2, BandwidthGbps: 400, LatencyUs: 5},
					spec.Level{Name: "building", Size: 2, BandwidthGbps: 400, LatencyUs: 20,
						DistanceKm: rapid.Float64Range(1, 3000).Draw(rt, "km"), LinkCapacityGbps: rapid.Float64Range(100, 1e5).Draw(rt, "capacity")})
				j.CrossSite = rapid.SampledFrom([]string{"dp", "pp"}).Draw(rt, "cross")
			} else {
				lv = append(lv, spec.Level{Name: "zone", Size: rest, BandwidthGbps: 400, LatencyUs: 5})
			}
			j.System.Topology = &spec.Topology{Levels: lv}
		}
		return j
	})
}

// bothEngines resolves j and runs both engines; ok is false when the
// resolver refuses j.
func bothEngines(t interface{ Fatalf(string, ...any) }, j *spec.Job) (c *Config, a, e Result, ok bool) {
	c, err := Resolve(j, model.Load, hardware.Lookup)
	if err != nil {
		return nil, a, e, false
	}
	if a, err = Analytic(c); err != nil {
		t.Fatalf("analytic: %v", err)
	}
	if e, err = Event(c); err != nil {
		t.Fatalf("event refuses what the resolver accepted: %v", err)
	}
	return c, a, e, true
}

func describe(c *Config) string {
	return fmt.Sprintf("%s %s %s m=%d levels=%d", c.Model.ID, c.Parallel, c.Schedule, c.Parallel.MicroBatches(c.Batch), len(c.Topology.Levels))
}

// TestEnginesAgree draws random jobs and checks, for every valid one, that
// the two engines give the same memory per GPU, the same micro-batches in
// flight and the same fit verdict (both read the schedule's in-flight
// count) and that the event engine runs whatever the resolver accepts.
// These hold exactly for every draw. Every draw's step times agree within
// engineAgreementRapid, and the draws' 90th percentile within 10%, the
// agreement issue 9 asks of every job (which the tail above misses).
func TestEnginesAgree(t *testing.T) {
	var diffs []float64
	worst, worstJob, worstSpec := 0.0, "", ""
	rapid.Check(t, func(rt *rapid.T) {
		j := jobGen().Draw(rt, "job")
		c, a, e, ok := bothEngines(rt, j)
		if !ok {
			return
		}
		if a.MemoryGiBPerGPU != e.MemoryGiBPerGPU || a.Feasible != e.Feasible || a.Memory.InFlight != e.Memory.InFlight {
			rt.Fatalf("%s: memory analytic %.3f GiB (%.2f in flight, fits %v), event %.3f GiB (%.2f, fits %v)",
				describe(c), a.MemoryGiBPerGPU, a.Memory.InFlight, a.Feasible, e.MemoryGiBPerGPU, e.Memory.InFlight, e.Feasible)
		}
		d := math.Abs(a.StepTimeS-e.StepTimeS) / e.StepTimeS
		if d > engineAgreementRapid {
			rt.Fatalf("%s: step analytic %.4g s, event %.4g s, %.1f%% apart", describe(c), a.StepTimeS, e.StepTimeS, 100*d)
		}
		diffs = append(diffs, d)
		if d > worst {
			worst, worstJob = d, describe(c)
			if b, err := json.Marshal(j); err == nil {
				worstSpec = fmt.Sprintf("%s; analytic %.6g s, event %.6g s", b, a.StepTimeS, e.StepTimeS)
			}
		}
	})
	if len(diffs) >= 20 {
		slices.Sort(diffs)
		t.Logf("%d valid draws; step-time difference 90th percentile %.1f%%, 95th %.1f%%, 99th %.1f%%, worst %.1f%% (%s)",
			len(diffs), 100*diffs[len(diffs)*9/10], 100*diffs[len(diffs)*95/100], 100*diffs[len(diffs)*99/100], 100*worst, worstJob)
		t.Logf("worst draw: %s", worstSpec)
		if p90 := diffs[len(diffs)*9/10]; p90 > 0.10 {
			t.Errorf("90th percentile step-time difference over %d draws %.1f%% > 10%%", len(diffs), 100*p90)
		}
	}
}

// TestEngineAgreementSpread measures the step-time spread between the
// engines over a fixed sample of jobs (seeded, so deterministic) and holds
// its 90th percentile to engineAgreementP90.
func TestEngineAgreementSpread(t *testing.T) {
	gen := jobGen()
	var diffs []float64
	worst, worstJob := 0.0, ""
	for seed := 0; seed < 1500; seed++ {
		c, a, e, ok := bothEngines(t, gen.Example(seed))
		if !ok {
			continue
		}
		d := math.Abs(a.StepTimeS-e.StepTimeS) / e.StepTimeS
		diffs = append(diffs, d)
		if d > worst {
			worst, worstJob = d, describe(c)
		}
	}
	if len(diffs) < 300 {
		t.Fatalf("only %d valid jobs in the sample", len(diffs))
	}
	slices.Sort(diffs)
	p90 := diffs[len(diffs)*9/10]
	t.Logf("%d valid jobs; step-time difference median %.1f%%, 90th percentile %.1f%%, 95th %.1f%%, worst %.1f%% (%s)",
		len(diffs), 100*diffs[len(diffs)/2], 100*p90, 100*diffs[len(diffs)*95/100], 100*worst, worstJob)
	if p90 > engineAgreementP90 {
		t.Errorf("90th percentile step-time difference %.1f%% > %.0f%%", 100*p90, 100*engineAgreementP90)
	}
	if worst > engineAgreementMax {
		t.Errorf("worst step-time difference %.1f%% > %.0f%% (%s)", 100*worst, 100*engineAgreementMax, worstJob)
	}
}

// On Megatron-Core's folded expert grid (etp below tp, ep beyond dp*cp)
// both engines run what the resolver accepts, give the same memory and fit
// verdict and step times within engineAgreementMax, and the ep group has
// ep members whatever dp is.
func TestEnginesAgreeOnFoldedExpertGrid(t *testing.T) {
	tests := []struct {
		model, parallel string
		gpus, ep        int
	}{
		{"qwen3-30b-a3b", "{tp: 2, pp: 2, ep: 16, etp: 1}", 32, 16},
		{"qwen3-30b-a3b", "{tp: 4, pp: 2, ep: 8, etp: 2}", 32, 8},
		{"qwen3-30b-a3b", "{tp: 4, pp: 2, ep: 4, etp: 1}", 32, 4},
		{"mixtral-8x7b", "{tp: 2, pp: 2, ep: 8, etp: 1}", 16, 8},
		{"mixtral-8x7b", "{tp: 2, pp: 2, ep: 4}", 16, 4},
	}
	for _, tt := range tests {
		t.Run(tt.model+" "+tt.parallel, func(t *testing.T) {
			j, err := spec.ParseJob([]byte(fmt.Sprintf(`
model: %s
system: {gpu: h100-sxm, gpus: %d}
parallel: %s
schedule: 1f1b
training: {seq_len: 4096, global_batch: 64, micro_batch: 1, precision: bf16}
`, tt.model, tt.gpus, tt.parallel)))
			if err != nil {
				t.Fatal(err)
			}
			c, a, e, ok := bothEngines(t, j)
			if !ok {
				_, err := Resolve(j, model.Load, hardware.Lookup)
				t.Fatalf("resolver refuses: %v", err)
			}
			l, _ := c.Layout()
			if got := l.Spans["ep"].Size(); got != tt.ep {
				t.Errorf("ep group of %d GPUs, want %d", got, tt.ep)
			}
			if a.Memory != e.Memory || a.Feasible != e.Feasible {
				t.Errorf("memory analytic %+v, event %+v", a.Memory, e.Memory)
			}
			if d := math.Abs(e.StepTimeS-a.StepTimeS) / a.StepTimeS; d > engineAgreementMax {
				t.Errorf("step analytic %.4f s, event %.4f s (%.0f%% apart)", a.StepTimeS, e.StepTimeS, 100*d)
			}
			var epBytes float64
			for _, x := range a.Levels {
				if x.Dim == "ep" {
					epBytes += x.Bytes
				}
			}
			if epBytes <= 0 {
				t.Errorf("no all-to-all traffic reported for ep=%d", tt.ep)
			}
		})
	}
}

// logUniform draws from [lo, hi] uniformly in log scale.
func logUniform(rt *rapid.T, lo, hi float64, label string) float64 {
	return math.Exp(rapid.Float64Range(math.Log(lo), math.Log(hi)).Draw(rt, label))
}

// pipelineGen draws pipelines of every schedule over one to three levels
// whose links span 1 Gb/s to NVLink (7,200 Gb/s) and whose latencies span
// 1 us to 100 ms, the outermost level sometimes behind a shared uplink.
func pipelineGen() *rapid.Generator[*spec.Job] {
	return rapid.Custom(func(rt *rapid.T) *spec.Job {
		kind := rapid.SampledFrom(schedule.Kinds()).Draw(rt, "schedule")
		tp := rapid.SampledFrom([]int{1, 2, 8}).Draw(rt, "tp")
		pp := rapid.SampledFrom([]int{2, 4}).Draw(rt, "pp")
		dp := rapid.SampledFrom([]int{1, 2}).Draw(rt, "dp")
		vp := kind.DefaultChunks()
		if kind == schedule.Interleaved || kind == schedule.LatencyAware {
			vp = rapid.SampledFrom([]int{1, 2}).Draw(rt, "vp")
			if kind == schedule.Interleaved {
				vp = 2
			}
		}
		mb := rapid.IntRange(1, 4*pp).Draw(rt, "micro-batches")
		zero := rapid.IntRange(0, 3).Draw(rt, "zero")
		gpus := tp * pp * dp
		// Level sizes: the innermost holds tp (or one GPU), the rest split
		// what is left.
		var sizes []int
		switch rapid.IntRange(1, 3).Draw(rt, "levels") {
		case 1:
			sizes = []int{gpus}
		case 2:
			sizes = []int{tp, gpus / tp}
		default:
			rest := gpus / tp
			if rest%2 == 0 && rest > 2 {
				sizes = []int{tp, rest / 2, 2}
			} else {
				sizes = []int{tp, rest}
			}
		}
		var lv []spec.Level
		for i, s := range sizes {
			if s < 1 || (i > 0 && s == 1) {
				continue
			}
			lv = append(lv, spec.Level{Name: string(rune('a' + i)), Size: s,
				BandwidthGbps: logUniform(rt, 1, 7200, "gbps"), LatencyUs: logUniform(rt, 1, 1e5, "latency")})
		}
		if len(lv) > 1 && rapid.Bool().Draw(rt, "uplink") {
			lv[len(lv)-1].LinkCapacityGbps = logUniform(rt, 1, 1e5, "capacity")
		}
		return &spec.Job{
			Model:    "llama3.1-8b",
			System:   spec.System{GPU: "h100-sxm", GPUs: gpus, Topology: &spec.Topology{Levels: lv}},
			Parallel: spec.Parallel{TP: tp, PP: pp, VP: vp, DP: dp, Zero: &zero},
			Schedule: string(kind),
			Training: spec.Training{SeqLen: 2048, GlobalBatch: dp * mb, MicroBatch: 1, Precision: "bf16", Recompute: "none"},
		}
	})
}

// levelsOf is j's levels in short: size, Gb/s, latency in us and, for a
// shared uplink, its capacity in Gb/s.
func levelsOf(j *spec.Job) string {
	var out string
	for _, l := range j.System.Topology.Levels {
		out += fmt.Sprintf("[%d %.4g Gb/s %.4g us", l.Size, l.BandwidthGbps, l.LatencyUs)
		if l.LinkCapacityGbps > 0 {
			out += fmt.Sprintf(" uplink %.4g Gb/s", l.LinkCapacityGbps)
		}
		out += "]"
	}
	return out
}

// linkBusy is the longest time any pipeline link must carry its step's
// messages: the link from one stage to another carries every message
// between them in that direction, activations and gradients alike (the
// engines' send queues, schedule.Transfer.Serialize), one per micro-batch
// and crossing, at the link's uncontended rate.
func linkBusy(c *Config) float64 {
	e, err := newEvaluator(c)
	if err != nil {
		return 0
	}
	p := c.Parallel
	nv := p.PP * max(p.VP, 1)
	busy := map[[2]int]float64{}
	for k := 0; k+1 < nv; k++ {
		a, b := e.stageOf(k), e.stageOf(k+1)
		if a == b {
			continue
		}
		link := e.linksOf(topology.PP)[e.boundaryLevel(a, b)]
		x := float64(p.MicroBatches(c.Batch)) * e.p2pBytes() / link.BytesPerSec
		busy[[2]int{a, b}] += x // activations
		busy[[2]int{b, a}] += x // gradients
	}
	var most float64
	for _, v := range busy {
		most = max(most, v)
	}
	return most
}

// monotoneSlack is how much slower a step may get after a link improves,
// analytic and event: float noise alone. Every resource of the event
// engine runs its operations in an order the schedule fixes (a stage's
// compute in list order, its sends to a peer in the order its ops end,
// a stage's data-parallel stream in the order its chunks' last backward
// ops run), which makes it a max-plus system, and max-plus systems are
// monotone: shorter durations never delay a completion. The
// latency-aware plan (latencyAware) reads the round trip against the
// ops' compute, which no link changes; with their communication in it, a
// faster TP link asked for more warm-up and made a step up to 1.98%
// slower (event, latency-aware-1f1b pp 4 vp 2 m 12). The analytic
// engine's closed forms are monotone, and its data-parallel tail spaces
// a stage's chunks at least at the slow link's pace (tailPace); without
// that a faster TP link made a step up to 0.075% slower (interleaved pp
// 2 m 4). Measured over 3 x 20,000 draws (go test ./train -run
// TestPropertyPipelineBoundsAndMonotone -rapid.checks=20000
// -rapid.seed=1..3 -v): no draw slower by more than 1e-9 in either
// engine outside trunkSlack's jobs, and over 3 x 5,000 none slower at
// all.
var monotoneSlack = [2]float64{1e-9, 1e-9}

// trunkSlack is monotoneSlack for the event engine on a job with a
// shared uplink (trunks): its flows share the uplink max-min fairly,
// processor sharing, which is work-conserving and so not a max-plus
// system: a flow that arrives sooner takes a share from one that was
// alone, and a step can end later (Graham, "Bounds on multiprocessing
// timing anomalies", SIAM J. Appl. Math. 1969). Two flows of x seconds
// alone each that start d apart on one link end at 2x - d and 2x under
// processor sharing: the first's end falls as the second starts later,
// so no fixed service order gives it, and an order fixed by the
// schedule would remove the anomaly only by leaving the uplink idle
// while a later message waits for an earlier one (first come first
// served in a fixed order is what the analytic engine's built pass
// rejected: it let the stages drift apart and missed the contention,
// linkPacedPass). Measured over 3 x 5,000 draws (seeds 1-3): at most
// 1.78% (latency-aware-1f1b pp 4 m 7 over four units, a stage's sends to
// both its peers sharing its uplink; dualpipev pp 4 m 12 0.10%); over 2
// x 20,000 (seeds 4, 5) at most 0.016%; over 16 x 20,000 (seeds 1-16) at
// most 5.29% (seed 7, latency-aware-1f1b tp8 pp4 z3) and 2.14% (seed 10),
// the others at most 1.78%: the bound covers the measured worst, so that
// a suite's fresh seed does not fail on a known anomaly.
const trunkSlack = 0.06

// analyticTrunkSlack is monotoneSlack for the analytic engine on a job
// with a shared uplink. Its built pass runs the event engine's trunks
// there (linkPacedRun, trunkSend), so it has processor sharing's
// anomaly too, at the same scale: over seeds 1-60 of 20,000 checks the
// largest analytic slow-down after an improvement behind a shared
// uplink was 5.29% (seed 7, latency-aware-1f1b tp8 pp4 ZeRO-3 m 13,
// the event engine's worst draw as well), the next 3.92% and 3.85%;
// with the shares read off a reference run (uplinkShares) it was at
// most 9.2e-6, but that rule put the analytic engine up to 20.8% above
// the event engine. Every slow-down without a shared uplink is at most
// 4.4e-14.
const analyticTrunkSlack = trunkSlack

// sharesUplink reports whether the event engine runs c's flows over
// shared uplinks.
func sharesUplink(c *Config) bool {
	e, err := newEvaluator(c)
	return err == nil && e.newTrunks() != nil
}

// pipelineAgreement is how far apart the engines' steps may be on the
// pipelines of pipelineGen (links of 1 Gb/s to NVLink, 1 us to 100 ms,
// shared uplinks down to 1 Gb/s): measured over 3 x 5,000 rapid checks
// (go test ./train -run TestPropertyPipelineBoundsAndMonotone
// -rapid.checks=5000 -rapid.seed=1..3 -v) at worst 15.3%, 15.6% and
// 18.5% (dualpipev tp8 pp4 m 12 behind a 1 Gb/s uplink, zb-v pp 4 m 2
// behind one, dualpipev tp1 pp4 m 9 behind one: the analytic engine
// below where DualPipeV's ingress, on which two stages' messages meet,
// is read off the compute-only run), 99th percentile 5.2-5.8%, 95th
// 1.5-1.7%, 90th 0.4-0.5%; over 3 x 20,000 checks (seeds 4-6) at worst
// 22.8%, 21.3% and 19.6% (below), 99th percentile 5.6-5.7%. Before every
// order with overlapped sends ran a stage's two flows through its unit's
// one egress (egressRates; DualPipeV's alone did) the worst were the
// same, 99th percentile 5.3-5.7% and 5.7%, and behind shared uplinks the
// latency-aware and interleaved orders' 99th percentiles were 13.5% and
// 10.5% over 3 x 5,000 (now 9.6% and 8.5%), the analytic engine below
// (TestOverlappedEgress). Before a DualPipeV stage's messages to its
// two peers shared its unit's egress (egressRates) it was 21.0%, 16.0%
// and 20.3% (dualpipev pp 4 m 12-14 behind a 1-1.2 Gb/s uplink that
// binds, the analytic engine below), 99th percentile 5.2-5.7%; the
// bound stays at 23% for the 20,000-check worst below, which are not
// DualPipeV's. Over 3 x 20,000 checks (seeds 4-6) at worst 22.8%
// (interleaved-1f1b pp 2 m 2 over three levels), 21.3% (zb-v pp 4 m 1
// behind a shared uplink) and 19.6%, 99th percentile 5.7-5.8%. Before
// ZB-V's data-parallel tail was read off its built order (builtTail)
// and DualPipeV's pass off its built order with its sends alone, no
// closed form on top, its uplinks binding counting both of a stage's
// flows (dualPipeVPaced, uplinkFlows), it was 15.6-18.0%, 6.5-6.9%,
// 2.1-2.4% and 0.7-0.8% over 3 x 5,000: the 99th percentile fell, the
// worst rose, because the closed form had hidden DualPipeV's built pass
// falling short of the event engine's max-min sharing behind a binding
// uplink (uplinkShares reads which messages meet off a compute-only
// run, and a backlogged egress keeps both of a stage's peer queues
// busy), where it also made the step up to 36% slower after a level
// got faster. Over 2 x 20,000 checks (seeds 4, 5) it was at worst 22.8%
// (interleaved-1f1b pp 2 m 2 over three levels) and 21.3% (zb-v pp 4 m
// 1). Before a shared uplink's
// rate had one owner, blocking sends over shared uplinks were read off
// the built order at their max-min share, ZB-H1 reduced after its weight
// gradients and a link's first message stopped counting twice
// (network.UplinkBytesPerSec, uplinkShares, dataParallelTail,
// overlappedSends) it was 22.4-28.8%, 10.1-11.1%, 3.8-4.4% and 1.7-1.9%
// over 3 x 5,000 (30.4-30.9% over 2 x 20,000 after the first three);
// before the analytic engine read DualPipeV's bubble and link-paced
// overlapped pipelines off the built order (builtBubble, linkPacedPass)
// 39-47%, 15.8-17.8%, 6.7-7.6% and 3.5-4.1% (56-58% over 20,000); before
// builtBubble and one send queue per stage pair
// (schedule.Transfer.Serialize) 46.4%, 19.8%, 9.7% and 5.7% over seeds 1
// and 2. The tail is now overlapped orders over shared uplinks whose
// messages meet the event engine's max-min sharing with a head start
// (uplinkShares prices them as meeting or not), DualPipeV over them
// above all, ZB-V and interleaved orders behind shared uplinks under
// ZeRO-1 with few micro-batches; issue 11 asks 10% of every draw, which
// the tail misses. The three worst of seeds 4-6 and the interleaved
// 17.6% are ZeRO-1's (the same draws under ZeRO-0 agree to 12.3%, 4.7%,
// 0.8% and 7.9%): from ZeRO-0 to ZeRO-1 the event engine's
// data-parallel time falls by 0.07-0.58 s, as it hides each chunk's
// gather until that chunk's first forward (paramGatherDelay), while the
// analytic engine's moves by -0.06 to +0.09 s (dataParallelTail, zero1Gather;
// builtTail reads the event engine's for ZB-V only where no uplink is
// shared). Since ZB-V's ZeRO-1 and 2 gather behind a shared uplink is
// chunk by chunk (chainGatherDelay; the zb-v draws 21.3% and 19.6% now
// 11.3% and 15.3%) it is over 3 x 20,000 checks (seeds 4-6) at worst
// 22.8% (the interleaved draw), 17.0% (1f1b pp 4 m 15 behind a 1 Gb/s
// uplink) and 17.8% (dualpipev ZeRO-2 behind a 1.5 Gb/s one), 99th
// percentile 5.1-5.2% (was 5.3-5.5%), and over 3 x 5,000 (seeds 1-3)
// 15.3%, 11.1% and 18.5% (was 15.3%, 15.6%, 18.5%), 99th percentile
// 5.0-5.3% (was 5.1-5.7%); the bound stays at 23% for the interleaved ZeRO-1 draw,
// whose class validate's interleaved ZeRO-1 rows hold to the stage's
// whole gather (zero1Gather; the agree6 branch). The latency-aware and
// 1F1B tail behind shared uplinks (17.4%, 17.0%, analytic above) is
// uplinkShares pricing messages as meeting at a stage's ingress that the event engine's
// stages, paced by the uplink, send to it in turn. Since blocking sends
// meet where their windows overlap in the pass without shares, and share
// the uplink for the part they overlap (uplinkShares), 1F1B's worst draw
// behind shared uplinks is 2.3%, 6.5% and 5.0% over 3 x 5,000 (seeds
// 1-3; was 14.8%, 8.6% and 14.7%) and 5.7% over seed 5's 20,000 (was
// 17.0%); the worst of all 13.6%, 11.1%, 17.6% and 16.1% (was 14.8%,
// 11.1%, 17.6% and 17.0%), 99th percentile 4.3%, 5.0%, 4.5% and 4.7%
// (was 4.6%, 5.2%, 5.0% and 5.1%). The latency-aware tail stays: its
// overlapped sends still meet in the compute-only run. DualPipeV's (18.5%,
// analytic below) was max-min sharing of a stage's egress between its
// peers, which delays a fused pair's first messages until the next
// pair's, and which a first-come-first-served egress does not: since
// each message waits what processor sharing adds (egressLags, with the
// ops' time as the pass prices it) DualPipeV's worst draw behind shared
// uplinks is 6.4%, 9.5% and 11.1% over 3 x 5,000 checks (seeds 1-3; was
// 15.3%, 9.5% and 18.5%) and 7.6%, 8.9% and 8.0% over 3 x 20,000
// (seeds 4-6; was 11.1%, 16.0% and 17.8%), the analytic engine above in
// all six, all but seed 1's (TestDualPipeVEgress's second job) ZeRO-1
// with data-parallel traffic on the uplink; the worst of all 14.8%, 11.1%, 17.6%, 22.8%, 17.0% and 17.5%, 99th
// percentile 4.6%, 5.2%, 5.0%, 5.0%, 5.1% and 4.9% (was 4.9%, 5.3%,
// 5.0%, 5.1%, 5.2% and 5.0%). The bound stays at 23% for seed 4's
// interleaved ZeRO-1 draw. Over 16 x 20,000 checks (seeds 1-16; the
// suite's runs draw a fresh seed each time) the worst was 33.6% (seed 1:
// interleaved-1f1b tp8 pp4 vp2 m 16, one stage a unit of 8 GPUs behind a
// 13.3 Gb/s uplink that binds below 16 Gb/s, the analytic engine above,
// flat at 1.182 s from 13.3 to 15.9 Gb/s where the event engine goes
// 0.885 to 0.794 s), 32.3% (seed 13, the same order at tp1 behind 1.6
// Gb/s) and, over seeds 1-24, 49.0% (seed 21, which failed the bound of
// 45%) and 39.7% (seed 14, latency-aware tp1 pp4 vp2 m 16 behind 1.7
// Gb/s): the closed form of overlapped sends (overlappedSends) summed a
// shared uplink's busy time at each message's link rate, not at the
// uplink's rate for one stage (stageUplinkRate,
// TestOverlappedSendsUplinkRate); the built pass (linkPacedPass) was
// within 0.7% of the event engine on those draws. Since, over 40 x
// 20,000 checks (seeds 1-40; seed 24 and 25 stop at 15,823 and 7,550
// checks on analytic slow-downs of ZB-V and ZB-H1 of 0.00092% and
// 0.017% that main has too) the worst is 26.3% (seed 31: interleaved
// pp2 vp2 dp2 ZeRO-1 m 2 over three levels, no uplink shared), then
// 23.3% (seed 17, the same class) and 22.8% (seed 4); behind shared
// uplinks the interleaved and latency-aware orders' worst is 20.1% and
// 20.8% (seeds 9 and 16, tp2 and tp8 pp4 m 16: uplinkShares reads that
// their messages meet off the compute-only run, where TP communication
// spaces them in the event engine), 99th percentile 4.3-5.0% (the full
// runs). With the ZeRO-0/1/2 tails of chunked orders as the event
// engine runs them (chunkLaps, chainGatherDelay, DualPipeV's arrivals
// read off its paced run) and each stage's closed-form step a floor
// (othersStep), over 40 x 20,000 checks (seeds 1-40, every one passing)
// the worst is 20.8% (seed 16, the latency-aware order behind shared
// uplinks above), then 20.1% (seed 9, interleaved, the same cause) and
// 19.8% (seeds 25 and 32); the interleaved and latency-aware pp2 vp2 dp2
// ZeRO-1 m 2 class is at most 15.0% (seed 31; the stage's whole gather
// due by its first forward, which the public rows hold); 99th
// percentile 3.7-4.5%, 90th 0.3%. Reading overlapped sends' meetings off
// a run with the layers' TP communication took the first class to 14.7%
// but let a faster TP link slow the analytic step by 7.8e-4 (seed 37),
// so it is not in (branch agree16). The bound covers the measured
// worst, so that a suite's fresh seed does not fail on a known tail.
// With each chunk's ZeRO-1/2 gather stalling its own first forward in
// both engines (stageGatherDelay), that class is at most 6.7%; over 60 x
// 20,000 checks (seeds 1-60, every one passing) the worst is still 20.8%
// (seed 16), 99th percentile 2.9-3.2%. With the built pass over shared
// uplinks on the event engine's trunks (trunkSend, which put that class
// at 9.3-9.4%), the queue of overlapped sends left to it and read where
// a message takes half a forward (overlappedSends, linkPacedShare), an
// interleaved order's chunk transitions stalled in its warm-up alone,
// reductions started where the paced run has them (builtArrivals) and
// 1F1B and ZB-H1 read off their order up to 4p micro-batches
// (onePassPerStage), seeds 1-60 all pass with the worst 6.1% (seed 28,
// DualPipeV tp1 pp4 m 16 behind a 2.2 Gb/s uplink), 99th percentile
// 1.5-1.6% (seeds 1-3 and 7), 90th 0.0%. Per class the worst over the
// 60: GPipe 2.5%, 1F1B 2.5%, ZB-H1 3.1%, ZB-V 3.4%, interleaved 5.4%,
// latency-aware 5.1%, DualPipeV 6.1%. The bound is issue 11's 10%.
const pipelineAgreement = 0.10

// Both engines' step is at least every pipeline link's busy time and the
// busiest stage's compute, and a faster link or a shorter latency on any
// level never makes it slower.
func TestPropertyPipelineBoundsAndMonotone(t *testing.T) {
	// The worst slow-downs: analytic, event, event over shared uplinks.
	worstSlowdown, worstSlowJob := [4]float64{}, [4]string{}
	var diffs []float64
	worst, worstJob := 0.0, ""
	// Each schedule's worst draw, logged for the tails' classes.
	kindWorst := map[string]float64{}
	kindJob := map[string]string{}
	defer func() {
		for _, k := range schedule.Kinds() {
			for _, key := range []string{string(k), string(k) + " behind shared uplinks"} {
				if j, ok := kindJob[key]; ok {
					t.Logf("%s: worst %.1f%% (%s)", key, 100*kindWorst[key], j)
				}
			}
		}
		t.Logf("worst slow-down after an improvement: analytic %.3g%% (%s), event %.3g%% (%s), event over shared uplinks %.3g%% (%s), analytic over shared uplinks %.3g%% (%s)",
			100*worstSlowdown[0], worstSlowJob[0], 100*worstSlowdown[1], worstSlowJob[1], 100*worstSlowdown[2], worstSlowJob[2], 100*worstSlowdown[3], worstSlowJob[3])
		if n := len(diffs); n > 0 {
			slices.Sort(diffs)
			t.Logf("%d pipelines; step-time difference 90th percentile %.1f%%, 95th %.1f%%, 99th %.1f%%, worst %.1f%% (%s)",
				n, 100*diffs[n*9/10], 100*diffs[n*95/100], 100*diffs[n*99/100], 100*worst, worstJob)
		}
	}()
	rapid.Check(t, func(rt *rapid.T) {
		j := pipelineGen().Draw(rt, "job")
		c, err := Resolve(j, model.Load, hardware.Lookup)
		if err != nil {
			rt.Skip(err)
		}
		steps := func(c *Config) [2]float64 {
			a, err := Analytic(c)
			if err != nil {
				rt.Fatal(err)
			}
			e, err := Event(c)
			if err != nil {
				rt.Fatal(err)
			}
			for _, r := range []Result{a, e} {
				if lo := max(r.Breakdown.ComputeS, linkBusy(c)); r.StepTimeS < lo*(1-1e-9) {
					rt.Fatalf("%s: step %.6g s under its compute %.6g s or link busy time %.6g s", describe(c), r.StepTimeS, r.Breakdown.ComputeS, linkBusy(c))
				}
			}
			return [2]float64{a.StepTimeS, e.StepTimeS}
		}
		before := steps(c)
		d := math.Abs(before[0]-before[1]) / before[1]
		diffs = append(diffs, d)
		if d > worst {
			worst, worstJob = d, describe(c)+" "+levelsOf(j)
		}
		keys := []string{string(c.Schedule)}
		if sharesUplink(c) {
			keys = append(keys, string(c.Schedule)+" behind shared uplinks")
		}
		for _, k := range keys {
			if d >= kindWorst[k] {
				kindWorst[k], kindJob[k] = d, fmt.Sprintf("%s %s: analytic %.4g s, event %.4g s", describe(c), levelsOf(j), before[0], before[1])
			}
		}
		if d > pipelineAgreement {
			rt.Fatalf("%s: step analytic %.4g s, event %.4g s, %.1f%% apart (levels %+v)", describe(c), before[0], before[1], 100*d, j.System.Topology.Levels)
		}
		lv := j.System.Topology.Levels
		was := append([]spec.Level(nil), lv...)
		i := rapid.IntRange(0, len(lv)-1).Draw(rt, "level")
		f := rapid.Float64Range(1, 10).Draw(rt, "factor")
		// A faster level with its uplink, a faster level behind the same
		// uplink (which can turn the uplink's contention on in both
		// engines: sharedUplink, uplinkFlows), or a shorter latency,
		// for every schedule. DualPipeV was left out of the second while
		// the analytic engine put a closed form on top of its built pass
		// and its uplink bound counting one flow a stage: a faster level
		// made it up to 36% slower (uplinkFlows, dualPipeVPaced).
		improve := rapid.IntRange(0, 2).Draw(rt, "improve")
		switch improve {
		case 0:
			lv[i].BandwidthGbps *= f
			lv[i].LinkCapacityGbps *= f
		case 1:
			lv[i].BandwidthGbps *= f
		default:
			lv[i].LatencyUs /= f
		}
		c2, err := Resolve(j, model.Load, hardware.Lookup)
		if err != nil {
			rt.Fatal(err)
		}
		after := steps(c2)
		for k, name := range []string{"analytic", "event"} {
			slack, w := monotoneSlack[k], k
			if shared := sharesUplink(c) || sharesUplink(c2); shared && k == 1 {
				slack, w = trunkSlack, 2
			} else if shared {
				slack, w = analyticTrunkSlack, 3
			}
			if r := after[k]/before[k] - 1; r > worstSlowdown[w] {
				worstSlowdown[w], worstSlowJob[w] = r, describe(c)
			}
			if after[k] > before[k]*(1+slack) {
				rt.Fatalf("%s: %s step slower after improving level %d by %.3gx: %.6g s -> %.6g s (levels %+v -> %+v)", describe(c), name, i, f, before[k], after[k], was, lv)
			}
		}
	})
}

// With the backward split (ZB-H1) a stage's gradients are final only in
// its last weight-gradient op, so its data-parallel reduction starts
// there in both engines (dataParallelTail): 32 GPUs on 1 Gb/s links,
// where the reduction is most of the step. Started with the input
// gradients' op, the analytic engine hid it under that op and came out
// 19.7% below the event engine (32.2 against 40.2 s; m = 2: 14.1%).
func TestSplitBackwardReducesAfterWeightGradients(t *testing.T) {
	for _, m := range []int{1, 2, 6} {
		c := resolve(t, fmt.Sprintf(`
model: llama3.1-8b
system:
  gpu: h100-sxm
  gpus: 32
  topology:
    levels:
      - {name: pod, size: 32, bandwidth_gbps: 1, latency_us: 1}
parallel: {tp: 8, pp: 2, dp: 2, zero: 0}
schedule: zb-h1
training: {seq_len: 2048, global_batch: %d, micro_batch: 1, precision: bf16, recompute: none}
`, 2*m))
		a, e := analyticAndEvent(t, c)
		if d := math.Abs(a.StepTimeS-e.StepTimeS) / e.StepTimeS; d > 0.10 {
			t.Errorf("m=%d: analytic %.3f s, event %.3f s: %.1f%% apart", m, a.StepTimeS, e.StepTimeS, 100*d)
		}
		t.Logf("m=%d: analytic %.3f s (dp %.3f s), event %.3f s (dp %.3f s)", m, a.StepTimeS, a.Breakdown.DPCommS, e.StepTimeS, e.Breakdown.DPCommS)
	}
}

// firstStageBubble is the closed form with equal stages, and less where
// the first stage is the heaviest: it runs its forwards while the first
// micro-batch goes down and back. GPT-3 XL under ZeRO-3, pp 8, five
// micro-batches (its first stage gathers the embedding before every
// op): the closed form alone put the analytic engine 17.2% above the
// event engine (0.264 against 0.225 s).
func TestFirstStageBubble(t *testing.T) {
	even := []stageWork{{fwd: 1, bwd: 2}, {fwd: 1, bwd: 2}, {fwd: 1, bwd: 2}, {fwd: 1, bwd: 2}}
	heavy := append([]stageWork{{fwd: 2, bwd: 4}}, even[1:]...)
	tests := []struct {
		name string
		st   []stageWork
		m    int
		want float64
	}{
		{"equal stages, m < p", even, 2, 9},
		{"equal stages, m > p", even, 6, 9},
		// Chain 2 + 3 x 3 = 11; then the first stage's two backwards.
		{"heavy first stage, m < p", heavy, 2, 11 + 2*4 - 2*6},
		// Four forwards (8) under the chain (11), two more, six backwards.
		{"heavy first stage, m > p", heavy, 6, 11 + 2*2 + 6*4 - 6*6},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, firstStageBubble(tt.st, tt.m)); diff != "" {
			t.Errorf("%s: bubble (-want +got):\n%s", tt.name, diff)
		}
	}
	zero := 3
	enginesWithin(t, &spec.Job{Model: "gpt3-xl", System: spec.System{GPU: "h100-sxm", GPUs: 64, Topology: &spec.Topology{Levels: []spec.Level{
		{Name: "node", Size: 8, BandwidthGbps: 3600, LatencyUs: 1}, {Name: "cluster", Size: 8, BandwidthGbps: 400, LatencyUs: 5}}}},
		Parallel: spec.Parallel{TP: 1, PP: 8, VP: 1, DP: 8, Zero: &zero}, Schedule: "1f1b",
		Training: spec.Training{SeqLen: 4096, GlobalBatch: 40, MicroBatch: 1, Precision: "bf16", Recompute: "none"}}, 0.05)
}

// enginesWithin checks that both engines run j and that their steps are
// at most tol apart.
func enginesWithin(t *testing.T, j *spec.Job, tol float64) {
	t.Helper()
	c, a, e, ok := bothEngines(t, j)
	if !ok {
		t.Fatal("the resolver refuses the job")
	}
	if d := math.Abs(a.StepTimeS-e.StepTimeS) / e.StepTimeS; d > tol {
		t.Errorf("%s: analytic %.4f s, event %.4f s: %.1f%% apart", describe(c), a.StepTimeS, e.StepTimeS, 100*d)
	}
	t.Logf("%s: analytic %.4f s, event %.4f s", describe(c), a.StepTimeS, e.StepTimeS)
}

// oneFOneBPass runs 1F1B's order: with equal stages the closed form,
// (m+p-1)(F+B); with sends alone (one unit each, the first stage sending
// no gradient and the last no activation) and two micro-batches, the
// first goes down and back in six sends and the second's gradient comes
// back one send behind it, where the closed form's steady cycle (two
// sends a micro-batch on a middle stage) says eight. Four GPUs over
// 1 Gb/s pipeline links, 1F1B with two micro-batches: the closed form
// put the analytic engine 10.1% above the event engine.
func TestOneFOneBPass(t *testing.T) {
	even := []stageWork{{fwd: 1, bwd: 2}, {fwd: 1, bwd: 2}, {fwd: 1, bwd: 2}, {fwd: 1, bwd: 2}}
	sends := []stageWork{{pp: 1, ppF: 1}, {pp: 2, ppF: 1}, {pp: 2, ppF: 1}, {pp: 1}}
	check := func(name string, st []stageWork, m int, want float64) {
		if diff := cmp.Diff(want, oneFOneBPass(st, m, false)); diff != "" {
			t.Errorf("%s: pass (-want +got):\n%s", name, diff)
		}
	}
	check("equal stages, m < p", even, 2, 15)
	check("equal stages, m = p", even, 4, 21)
	check("equal stages, m > p", even, 6, 27)
	check("sends alone, m < p", sends, 2, 7)
	// The order's own simulation (builtBubble) on unequal stages: the
	// embedding on the first, the head on the last, ZeRO-3's gathers.
	for _, kind := range []string{"1f1b", "zb-h1"} {
		for _, m := range []int{1, 2, 4} {
			zero := 3
			e := evaluatorOf(t, &spec.Job{Model: "llama3.1-8b", System: spec.System{GPU: "h100-sxm", GPUs: 8, Topology: &spec.Topology{Levels: []spec.Level{
				{Name: "pod", Size: 8, BandwidthGbps: 3, LatencyUs: 30}}}},
				Parallel: spec.Parallel{TP: 2, PP: 4, VP: 1, DP: 1, Zero: &zero}, Schedule: kind,
				Training: spec.Training{SeqLen: 2048, GlobalBatch: m, MicroBatch: 1, Precision: "bf16", Recompute: "none"}})
			vs := e.virtualStages()
			st := e.stages(vs)
			e.addDataParallelStalls(st, vs)
			want, ok := e.builtBubble(e.scheduleParams(vs), vs)
			if got := oneFOneBPass(st, m, kind == "zb-h1"); !ok || math.Abs(got-want) > 1e-12*want {
				t.Errorf("%s m=%d: pass %.9g s, the built order's %.9g s (built: %v)", kind, m, got, want, ok)
			}
		}
	}
	zero := 0
	enginesWithin(t, &spec.Job{Model: "llama3.1-8b", System: spec.System{GPU: "h100-sxm", GPUs: 4, Topology: &spec.Topology{Levels: []spec.Level{
		{Name: "pod", Size: 4, BandwidthGbps: 1, LatencyUs: 1}}}},
		Parallel: spec.Parallel{TP: 1, PP: 4, VP: 1, DP: 1, Zero: &zero}, Schedule: "1f1b",
		Training: spec.Training{SeqLen: 2048, GlobalBatch: 2, MicroBatch: 1, Precision: "bf16", Recompute: "none"}}, 0.02)
}
