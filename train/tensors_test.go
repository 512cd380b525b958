package train

import (
	"math"
	"strings"
	"testing"

	"github.com/scaleacross/scaleacross/model"
	"github.com/scaleacross/scaleacross/network"
	"github.com/scaleacross/scaleacross/topology"
)

// LayerTensors adds up to the layer's parameters as model counts them,
// for every dense catalog model with multi-head attention, and GPT-3
// Small has DS3Lab's 16 tensors a layer.
func TestLayerTensorsAddUp(t *testing.T) {
	for _, m := range model.Builtin() {
		if m.MoE != nil || m.MLA != nil {
			continue
		}
		var sum float64
		for _, x := range LayerTensors(&m) {
			sum += x
		}
		if want := float64(m.AttentionParams() + m.NormParams() + m.DenseMLPParams()); sum != want {
			t.Errorf("%s: tensors add up to %g, the layer has %g", m.ID, sum, want)
		}
	}
	g, err := model.Lookup("gpt3-small")
	if err != nil {
		t.Fatal(err)
	}
	if n := len(LayerTensors(g)); n != 16 {
		t.Errorf("gpt3-small: %d tensors a layer, want 16", n)
	}
}

// perTensorJob is GPT-3 Small as one pipeline stage of dp 4 over a
// shaped 1 Gb/s link of 10 ms one way, fp16, gradients all-reduced
// tensor by tensor.
const perTensorJob = `
model: gpt3-small
system:
  gpu: v100-sxm2-16g
  gpus: 4
  topology:
    levels:
      - {name: node, size: 1, bandwidth_gbps: 10, latency_us: 0}
      - {name: region, size: 4, bandwidth_gbps: 1, latency_us: 10000, transport: nccl-socket, algorithm: ALG}
parallel: {tp: 1, pp: 1, dp: 4, zero: 0}
schedule: 1f1b
training: {seq_len: 2048, global_batch: 8, micro_batch: 1, precision: fp16, recompute: full}
`

// The per-tensor sequence costs, in both engines, what its tensors cost
// one after the other, nothing hidden: the closed form over the model's
// tensors (each a ring of 2(n-1) steps at the link's latency plus its
// bytes, here with algorithm ring), and the idle start-up once. Bucketed
// reduction of the same gradients is cheaper (one latency chain, overlapped).
func TestPerTensorAllReduce(t *testing.T) {
	c := resolve(t, strings.ReplaceAll(perTensorJob, "ALG", "ring"))
	c.GradSync = GradSyncPerTensor
	links := network.Links(c.Topology, nil, c.Calib.NetworkEfficiency)
	span := topology.Span{Factors: []int{1, 4}}
	m := c.Model
	var want float64
	for _, x := range LayerTensors(m) {
		want += float64(m.Layers) * network.Time(network.AllReduce, 2*x, span, links)
	}
	want += network.Time(network.AllReduce, 2*float64(m.Vocab*m.Hidden), span, links)
	rest := float64(m.EmbeddingParams()+m.HeadParams()) - float64(m.Vocab*m.Hidden)
	want += network.Time(network.AllReduce, 2*rest, span, links) + links[1].StartupS
	if links[1].StartupS <= 0 {
		t.Fatalf("nccl-socket level has no start-up: %+v", links[1])
	}
	an, _ := dpCommInBoth(t, c, want, 1e-9, "the tensors in turn")
	// 16 x 12 + 3 tensors, each at least 6 one-way latencies of 10 ms.
	if want < 195*6*0.01 {
		t.Errorf("per-tensor sequence %.3f s is below its latency floor", want)
	}
	b := resolve(t, strings.ReplaceAll(perTensorJob, "ALG", "ring"))
	bucketed, err := Analytic(b)
	if err != nil {
		t.Fatal(err)
	}
	if !(bucketed.StepTimeS < an.StepTimeS) {
		t.Errorf("bucketed %.3f s not faster than per-tensor %.3f s", bucketed.StepTimeS, an.StepTimeS)
	}
	// Under NCCL's own choice at 4 hosts every tensor runs a ring: the same.
	n := resolve(t, strings.ReplaceAll(perTensorJob, "ALG", "nccl"))
	n.GradSync = GradSyncPerTensor
	nr, err := Analytic(n)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(nr.Breakdown.DPCommS/an.Breakdown.DPCommS-1) > 1e-9 {
		t.Errorf("nccl at 4 hosts: %.6f s, ring %.6f s", nr.Breakdown.DPCommS, an.Breakdown.DPCommS)
	}
}

// interleavedTensorJob is perTensorJob with ring collectives on four
// hosts of two GPUs: pp 2 inside each host with two interleaved chunks a
// stage, dp 4 across the hosts, at ZeRO stage zero ("zero: N").
func interleavedTensorJob(t *testing.T, zero string) string {
	t.Helper()
	y := strings.ReplaceAll(perTensorJob, "ALG", "ring")
	for _, ed := range [][2]string{
		{"gpus: 4", "gpus: 8"},
		{"{name: node, size: 1,", "{name: node, size: 2,"},
		{"pp: 1, dp: 4, zero: 0", "pp: 2, vp: 2, dp: 4, " + zero},
		{"schedule: 1f1b", "schedule: interleaved-1f1b"},
	} {
		if !strings.Contains(y, ed[0]) {
			t.Fatalf("edit %q not applied", ed[0])
		}
		y = strings.Replace(y, ed[0], ed[1], 1)
	}
	return y
}

// A stage of several chunks (interleaved, two per stage) runs its
// per-tensor sequence once after its last backward, paying the idle
// start-up (network.Link.StartupS) once: both engines expose the same
// data-parallel time.
func TestPerTensorChunksOneSequence(t *testing.T) {
	c := resolve(t, interleavedTensorJob(t, "zero: 0"))
	c.GradSync = GradSyncPerTensor
	an, err := Analytic(c)
	if err != nil {
		t.Fatal(err)
	}
	dpCommInBoth(t, c, an.Breakdown.DPCommS, 1e-9, "the analytic engine's sequence")
	links := network.Links(c.Topology, nil, c.Calib.NetworkEfficiency)
	if links[1].StartupS <= 0 {
		t.Fatalf("nccl-socket level has no start-up: %+v", links[1])
	}
}

// Per-tensor all-reduce is a ZeRO-0 mode of dense layers; anything else
// is refused, naming the mode.
func TestPerTensorRefused(t *testing.T) {
	c := resolve(t, strings.ReplaceAll(strings.ReplaceAll(perTensorJob, "ALG", "ring"), "zero: 0", "zero: 1"))
	c.GradSync = GradSyncPerTensor
	if _, err := Analytic(c); err == nil || !strings.Contains(err.Error(), "zero 0") {
		t.Errorf("zero 1 per-tensor: %v", err)
	}
	c.GradSync = "buckets"
	if _, err := Event(c); err == nil || !strings.Contains(err.Error(), "per-tensor") {
		t.Errorf("unknown mode: %v", err)
	}
}

// A flat-root ZeRO-3 unit exposes, per micro-batch, one all-gather of all
// the stage's parameters before the forward and one reduce-scatter after
// the backward, in both engines. The prefetched default gathers again
// before the backward: over this 1 Gb/s link, where the gathers dwarf
// the compute that could hide them, it is the slower.
func TestZeRO3FlatRoot(t *testing.T) {
	y := strings.ReplaceAll(strings.ReplaceAll(perTensorJob, "ALG", "ring"), "zero: 0", "zero: 3")
	y = strings.ReplaceAll(y, "global_batch: 8", "global_batch: 4")
	c := resolve(t, y)
	c.ZeRO3Gather = ZeRO3FlatRoot
	links := network.Links(c.Topology, nil, c.Calib.NetworkEfficiency)
	span := topology.Span{Factors: []int{1, 4}}
	params := float64(c.Model.TotalParams())
	want := network.Time(network.AllGather, 2*params, span, links) + network.Time(network.ReduceScatter, 2*params, span, links)
	an, ev := dpCommInBoth(t, c, want, 1e-6, "one gather and one reduce-scatter")
	if math.Abs(an.StepTimeS/ev.StepTimeS-1) > 1e-6 {
		t.Errorf("one stage, one micro-batch: analytic %.6f s, event %.6f s", an.StepTimeS, ev.StepTimeS)
	}
	c.ZeRO3Gather = ZeRO3Prefetched
	pre, err := Analytic(c)
	if err != nil {
		t.Fatal(err)
	}
	if !(pre.StepTimeS > an.StepTimeS) {
		t.Errorf("prefetched %.4f s, with its second gather, not slower than the flat root %.4f s", pre.StepTimeS, an.StepTimeS)
	}
	c.ZeRO3Gather = ZeRO3FlatRoot
	c.Parallel.Zero = 1
	if _, err := Analytic(c); err == nil {
		t.Error("a flat-root unit at zero 1 was accepted")
	}
}

// With two chunks a stage (interleaved), each chunk is its own flat-root
// unit: it gathers its own parameters before its forward and
// reduce-scatters them after its backward, so every collective pays its
// own latency chain. Both engines expose, per micro-batch, the most
// loaded stage's sum over its chunks of those two collectives.
func TestZeRO3FlatRootPerChunk(t *testing.T) {
	c := resolve(t, interleavedTensorJob(t, "zero: 3"))
	c.ZeRO3Gather = ZeRO3FlatRoot
	e, err := newEvaluator(c)
	if err != nil {
		t.Fatal(err)
	}
	links := network.Links(c.Topology, nil, c.Calib.NetworkEfficiency)
	span := e.dpSpan(c.Parallel.DP * c.Parallel.CP)
	vs := e.virtualStages()
	of := e.stageTable(len(vs))
	if len(vs) != 4 {
		t.Fatalf("%d virtual stages, want 4", len(vs))
	}
	perStage := make([]float64, c.Parallel.PP)
	params := make([]float64, c.Parallel.PP)
	for v := range vs {
		b := 2 * vs[v].denseParams
		perStage[of[v]] += network.Time(network.AllGather, b, span, links) + network.Time(network.ReduceScatter, b, span, links)
		params[of[v]] += vs[v].denseParams
	}
	// The most loaded stage is the one with the most compute; here the
	// stage holding the head, which also holds the most parameters.
	worst := 0
	for st := range params {
		if params[st] > params[worst] {
			worst = st
		}
	}
	want := float64(c.Parallel.MicroBatches(c.Batch)) * perStage[worst]
	dpCommInBoth(t, c, want, 1e-9, "each chunk's gather and reduce-scatter")
}

// dpCommInBoth runs both engines on c and checks that each reports want
// (within tol) as its exposed data-parallel time, what being named in
// the message.
func dpCommInBoth(t *testing.T, c *Config, want, tol float64, what string) (an, ev Result) {
	t.Helper()
	an, err := Analytic(c)
	if err != nil {
		t.Fatal(err)
	}
	if ev, err = Event(c); err != nil {
		t.Fatal(err)
	}
	for name, got := range map[string]float64{"analytic": an.Breakdown.DPCommS, "event": ev.Breakdown.DPCommS} {
		if math.Abs(got/want-1) > tol {
			t.Errorf("%s: dp comm %.6f s, want %s %.6f s", name, got, what, want)
		}
	}
	return an, ev
}
