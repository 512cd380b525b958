package validate

import (
	"fmt"
	"strings"

	"github.com/scaleacross/scaleacross/hardware"
	"github.com/scaleacross/scaleacross/model"
	"github.com/scaleacross/scaleacross/network"
	"github.com/scaleacross/scaleacross/spec"
	"github.com/scaleacross/scaleacross/train"
)

// Training groups of the network set, in report order: the step time of
// each row, and its slow-down against its table's fastest link.
const (
	GroupTrain1F1B     = "training 1f1b pp3"
	GroupTrainSlowdown = "training slow-down vs fastest link"
)

// TrainingGroups lists the training groups in report order.
func TrainingGroups() []string {
	return []string{GroupTrain1F1B, GroupTrainSlowdown}
}

// tableKey names the table a training row belongs to: its rows differ
// only in the link.
func tableKey(r NetRow) string {
	return fmt.Sprintf("%s/%s/%s/pp%d/dp%d/mb%d/gb%d", r.Op, r.Schedule, r.Sync, r.PP, r.DP, r.MicroBatch, r.GlobalBatch) + "/" + r.Precision
}

// slowdowns fills each training row's slow-down error: its step time
// over the step on its table's fastest link (the highest bandwidth, then
// the lowest latency), predicted against measured. It returns the rows
// that have one (not the fastest row itself).
func slowdowns(rows []NetRow, res []NetResult) []Result {
	byID := map[string]*NetResult{}
	for i := range res {
		byID[res[i].ID] = &res[i]
	}
	fastest := map[string]NetRow{}
	for _, r := range rows {
		if _, ok := byID[r.ID]; !ok || r.Kind != groupTraining {
			continue
		}
		k := tableKey(r)
		f, ok := fastest[k]
		if !ok || r.BandwidthGbps > f.BandwidthGbps || (r.BandwidthGbps == f.BandwidthGbps && r.LatencyMs < f.LatencyMs) {
			fastest[k] = r
		}
	}
	var out []Result
	for _, r := range rows {
		x, ok := byID[r.ID]
		if !ok || r.Kind != groupTraining {
			continue
		}
		f := byID[fastest[tableKey(r)].ID]
		if f == x {
			continue
		}
		x.MeasuredSlowdown = x.Measured / f.Measured
		x.PredictedSlowdown = x.Predicted / f.Predicted
		x.SlowdownErrPct = 100 * (x.PredictedSlowdown/x.MeasuredSlowdown - 1)
		out = append(out, Result{ErrorPct: x.SlowdownErrPct})
	}
	return out
}

// trainingGroup is the group of a training row the step model expresses,
// or "" with the reason it cannot.
func trainingGroup(r NetRow) (string, string) {
	switch {
	case r.Op == "send-recv" && r.Schedule == "1f1b":
		return GroupTrain1F1B, ""
	case r.Op == "all-reduce" && r.Sync == "nccl-all-reduce":
		// DS3Lab's AllReduceDP (data_parallel/dist_dp_allreduce.py) waits
		// for the whole backward, then all-reduces each parameter tensor in
		// turn on one stream (66 on the first stage: 16 per layer and the
		// two embeddings), with no buckets and no overlap. Against the
		// measured GPipe dp-1 table the all-reduce adds 0.34 s per tensor
		// at dp 4 and 50 ms (6.8 one-way latencies: a ring's 2(n-1) = 6
		// steps, HostAllReduceTime without its start-up round trips, is
		// 10-28% short on the five links) but 0.88 s at dp 16 (17.6
		// latencies, where the ring's 30 steps are 8-70% long), which a
		// ring alone does not give (NCCL's algorithm choice for small
		// tensors at 16 nodes is not modelled); and the GPipe part itself
		// grows 0.77 s from 10 to 50 ms where the step model's fill and
		// drain add 0.16 s (fp16 dp 1 predicted 9-25% fast).
		return "", "needs DS3Lab's AllReduceDP: each of the stage's 66 parameter tensors all-reduced in turn after the backward (no buckets, no overlap), at about 7 one-way latencies a tensor at dp 4 and 18 at dp 16, which a ring's 2(n-1) steps do not give (NCCL's algorithm choice for small tensors is not modelled); the GPipe dp-1 part is also 9-25% fast over the 10-50 ms links"
	case r.Sync == "fsdp-zero3":
		// DS3Lab's fairscale runners (the "Fairscale-ZeRO_S3-GPT3" scripts
		// of DS3Lab/Decentralized_FM_alpha) exist in versions that differ
		// in what a step is: one FSDP unit over the whole GPTGlueModel
		// (one flat parameter gathered before the forward and again
		// before the backward, gradients reduce-scattered after it), or
		// auto_wrap per module with flatten_parameters off and gradients
		// accumulated over 5 micro-steps per timed iteration. All of them
		// pass mixed_precision=False (fp32). At 5 Gb/s the single unit's
		// three collectives of 11/12 x 440 MB take 1.9 s, above the
		// measured 1.53 s for the whole step; which version ran is not
		// stated.
		return "", "which of DS3Lab's fairscale FSDP runners was timed is not stated (one flat unit per step, or per-module units with 5 accumulated micro-steps per iteration; all fp32), and the single unit's fp32 collectives alone (1.9 s at 5 Gb/s) exceed the 1.53 s measured there"
	}
	return "", trainingReason(r)
}

// rowPrecision is the row's training precision: the stated one, or fp32
// where the row leaves it unstated (the DS3Lab notes: the 1F1B timings
// sit near the fp32 GPipe table, and fairscale's FSDP trains in fp32
// unless told otherwise).
func rowPrecision(r NetRow) string {
	if r.Precision == "" || r.Precision == "unknown" {
		return string(hardware.FP32)
	}
	return r.Precision
}

// ds3labClasses is the output of DS3Lab's GPT-3 Small runs: GLUE QQP
// (question pairs, 2 classes) through its SeqClassification head, a
// pooler and a linear layer on the first token, not a language-model
// head. The runners load get_glue_qqp_train_data_loader and default to
// --task SeqClassification (DS3Lab/Decentralized_FM_alpha utils/
// dist_args_utils.py, modules/task_modules.py); results/gpt3_small.md says
// the loss is "very light-weighted" and that the last of the 3 instances
// holds the same 108 MB of parameters as the middle one (4 layers of
// 7.1 M fp32 parameters each), so it holds no 50257-wide output layer.
const ds3labClasses = 2

// trainingResult predicts a training row with the event engine on the
// row's hosts: one GPU per host joined at the row's shaped link, the
// pipeline's messages at the calibrated NCCL socket transport's host rate
// after the one-way latency of a streamed message
// (network.Technology.StreamedSendLatency: the receiver has posted its
// recv and the connection is warm, so the start-up round trips of an
// isolated send/recv are not paid again) and the data-parallel
// collectives at its ring rate. The output head is DS3Lab's QQP
// classifier (ds3labClasses).
// DS3Lab's pipelines send on their own CUDA stream, waiting only on the
// compute event of the micro-batch they carry (DS3Lab/Decentralized_FM_alpha
// pipeline_parallel/dist_gpipe_pipeline_async.py, torch_send_stream), so
// their sends overlap compute (train.P2POverlapped) and the link's latency
// is paid on the dependency chain. The reason is not empty when the row
// cannot be expressed.
func trainingResult(r NetRow, nccl network.Technology) (NetResult, string) {
	g, why := trainingGroup(r)
	if why != "" {
		return NetResult{}, why
	}
	if _, err := model.Lookup(r.Model); err != nil {
		return NetResult{}, fmt.Sprintf("model %s is not in the catalog", r.Model)
	}
	topo := r.RowTopology("nccl-socket")
	var levels []spec.Level
	for _, l := range topo.Levels {
		levels = append(levels, spec.Level{Name: l.Name, Size: l.Size, BandwidthGbps: l.BandwidthGbps, LatencyUs: l.LatencyUs, Transport: l.Transport})
	}
	zero := 0
	schedule := r.Schedule
	if r.Sync == "fsdp-zero3" {
		zero = 3
	}
	if r.PP <= 1 || schedule == "none" {
		schedule = "1f1b"
	}
	j := &spec.Job{
		Model:    r.Model,
		System:   spec.System{GPU: "v100-sxm2-16g", GPUs: r.GPUs, Topology: &spec.Topology{Levels: levels}},
		Parallel: spec.Parallel{TP: 1, PP: max(r.PP, 1), DP: max(r.DP, 1), Zero: &zero},
		Schedule: schedule,
		Training: spec.Training{SeqLen: r.SeqLen, GlobalBatch: r.GlobalBatch, MicroBatch: r.MicroBatch, Precision: rowPrecision(r), Recompute: "full"},
	}
	if !strings.HasPrefix(r.ID, "ds3lab-") {
		return NetResult{}, "only the DS3Lab V100 hosts are described"
	}
	c, err := train.Resolve(j, model.Load, hardware.Lookup)
	if err != nil {
		return NetResult{}, fmt.Sprintf("the job does not resolve: %v", err)
	}
	c.P2P = train.P2POverlapped
	c.UnfusedAttention = true
	c.HeadClasses = ds3labClasses
	path := network.HostPath{
		LineBytesPerSec: topo.Levels[siteLevelIndex].BandwidthGbps * 1e9 / bitsPerByte,
		RTTS:            2 * topo.OneWayLatencyS(siteLevelIndex),
		FlowBytesPerSec: awsSingleFlowGbps * 1e9 / bitsPerByte,
	}
	links := network.Links(c.Topology, nil, c.Calib.NetworkEfficiency)
	pp := append([]network.Link(nil), links...)
	dp := append([]network.Link(nil), links...)
	rate, lim := nccl.HostRate(path, 0)
	pp[siteLevelIndex] = network.Link{BytesPerSec: rate, LatencyS: nccl.StreamedSendLatency(path), Limit: lim}
	ring, _ := nccl.HostRate(path, nccl.RingFlows)
	copies := max(nccl.RingCopies, 1)
	// A ring of n hosts pays its start-up round trips once (HostAllReduceTime);
	// network.Time charges the level's latency at each of its 2(n-1) steps.
	n := float64(max(r.DP, 2))
	dp[siteLevelIndex] = network.Link{BytesPerSec: ring / copies, LatencyS: nccl.StartupRTTs * path.RTTS / (2 * (n - 1)), Limit: lim}
	res, err := train.EventShared(c, &train.Shared{Links: dp, PPLinks: pp, EPLinks: dp})
	if err != nil {
		return NetResult{}, fmt.Sprintf("the event engine refuses it: %v", err)
	}
	out := NetResult{
		ID: r.ID, Group: g, Transport: "nccl-socket", GPUs: r.GPUs, LatencyMs: r.LatencyMs,
		LinkGbps: topo.Levels[siteLevelIndex].BandwidthGbps, Unit: unitSeconds, Measured: r.MeasuredValue,
		Predicted: res.StepTimeS, Limit: string(lim),
	}
	out.ErrorPct = 100 * (out.Predicted/out.Measured - 1)
	return out, ""
}
