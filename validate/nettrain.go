package validate

import (
	"fmt"
	"slices"
	"strings"
	"sync"

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
	GroupTrainGPipeAR  = "training gpipe+allreduce pp3"
	GroupTrainZeRO3    = "training zero-3 fsdp dp12"
	GroupTrainSlowdown = "training slow-down vs fastest link"
)

// TrainingGroups lists the training groups in report order.
func TrainingGroups() []string {
	return []string{GroupTrain1F1B, GroupTrainGPipeAR, GroupTrainZeRO3, GroupTrainSlowdown}
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
	case r.Op == "all-reduce" && r.Sync == "nccl-all-reduce" && r.Schedule == "gpipe":
		// DS3Lab's AllReduceDP (data_parallel/dist_dp_allreduce.py) waits
		// for the whole backward, then all-reduces each parameter tensor in
		// turn on one stream through NCCL's allReduce (cupy's binding,
		// comm/nccl_backend.py), with no buckets and no overlap: 66 tensors
		// on the first stage (16 per layer and the two embeddings), in the
		// row's precision (fp16 gradients; the table is "fp16"). NCCL picks
		// ring or tree per tensor (network.NCCL): at dp 4 every tensor
		// runs a ring of 6 steps, at dp 16 the 40 bias and norm vectors a
		// tree of 8 hops and the matrices a ring of 30 steps.
		return GroupTrainGPipeAR, ""
	case r.Sync == "fsdp-zero3":
		// DS3Lab's fairscale runner (dist_fairscale_zero_s3.py) wraps the
		// whole GPTGlueModel, under one checkpoint_wrapper, in one
		// FullyShardedDataParallel with its defaults: flatten_parameters
		// (one flat tensor), mixed_precision=False (fp32 parameters and
		// collectives), and as the root instance reshard_after_forward
		// forced False (fairscale's _lazy_init): one all-gather before the
		// forward, kept for the recomputing backward, one reduce-scatter
		// after it, SGD on the shard (train.ZeRO3FlatRoot). A later
		// version of the runner (GPTGlueFSDPModel with --fsdp-degree
		// recursive) auto-wraps the whole model once more under the root,
		// which then holds no parameters, so its unit reshards and gathers
		// again for the backward: three fp32 collectives of 11/12 of 438 MB,
		// whose bytes alone take longer than the measured step on every
		// shaped link (9.6 s at 1 Gb/s against 6.84 s), so it is not the
		// version timed.
		return GroupTrainZeRO3, ""
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

// ncclTransport is the catalog's NCCL socket transport between hosts,
// which the DS3Lab rows ran (network.LookupTechnology). Training rows are
// priced with its catalog entry, whatever NetParams a fit is trying: the
// fit runs over the p2p and all-reduce rows only.
const ncclTransport = "nccl-socket"

// ds3labVocab is the token embedding of DS3Lab's GPT-3 Small runs: the
// QQP loader tokenizes with Megatron's BertWordPieceLowerCase over
// bert-large-cased-vocab.txt (DS3Lab/Decentralized_FM_alpha utils/
// dist_args_utils.py, add_task_arguments), 28,996 WordPiece tokens, and
// the runners size the embedding by tokenizer.vocab_size, unpadded. It
// agrees with results/gpt3_small.md: the first instance holds 198 MB of
// parameters against the others' 108 MB (4 layers), and 28,996 x 768 plus
// 2,048 x 768 learned positions is 90.9 MiB in fp32. GPT-2's 50,257 would
// make it 261 MB.
const ds3labVocab = 28996

// ds3labModel loads a model as DS3Lab's runs built it: gpt3-small with
// DS3Lab's vocabulary (ds3labVocab); other models as the catalog has them.
func ds3labModel(ref string) (*model.Model, error) {
	m, err := model.Load(ref)
	if err != nil || m.ID != "gpt3-small" {
		return m, err
	}
	d := *m
	d.Vocab = ds3labVocab
	d.Assumptions = append(slices.Clone(m.Assumptions), fmt.Sprintf("vocabulary %d: DS3Lab's BERT WordPiece tokenizer (bert-large-cased-vocab.txt), not GPT-2's %d", ds3labVocab, m.Vocab))
	return &d, nil
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
// row's hosts: one GPU per host joined at the row's shaped link, whose
// transport is the calibrated NCCL socket transport (nccl-socket) and
// whose collectives run NCCL's own algorithm choice (network.NCCL), so
// that the engines price it through network.LinksInto exactly as
// simulate prices a topology that names them. A pipeline message pays the
// one-way latency after which its bytes flow at the transport's rate (a
// streamed send: network.Technology.StreamedSendLatency), a collective
// its algorithm's hops at that latency. The output head is DS3Lab's QQP
// classifier (ds3labClasses). DS3Lab's pipelines send on their own CUDA
// stream, waiting only on the compute event of the micro-batch they carry
// (DS3Lab/Decentralized_FM_alpha pipeline_parallel/
// dist_gpipe_pipeline_async.py, torch_send_stream), so their sends overlap
// compute (train.P2POverlapped) and the link's latency is paid on the
// dependency chain. The reason is not empty when the row cannot be
// expressed.
func trainingResult(r NetRow) (NetResult, string) {
	c, g, why := trainingConfig(r)
	if why != "" {
		return NetResult{}, why
	}
	res, err := train.Event(c)
	if err != nil {
		return NetResult{}, fmt.Sprintf("the event engine refuses it: %v", err)
	}
	site := c.Topology.Levels[siteLevelIndex]
	links := network.Links(c.Topology, nil, c.Calib.NetworkEfficiency)
	out := NetResult{
		ID: r.ID, Group: g, Transport: site.Transport, GPUs: r.GPUs, LatencyMs: r.LatencyMs,
		LinkGbps: site.BandwidthGbps, Unit: unitSeconds, Measured: r.MeasuredValue,
		Predicted: res.StepTimeS, Limit: string(links[siteLevelIndex].Limit),
	}
	if l := links[siteLevelIndex]; g == GroupTrainZeRO3 && l.RingLimit != "" {
		// Its only traffic is the rings' all-gather and reduce-scatter.
		out.Limit = string(l.RingLimit)
	}
	out.ErrorPct = 100 * (out.Predicted/out.Measured - 1)
	return out, ""
}

// trainingConfig resolves the job of a training row the step model
// expresses, with its group, or the reason it cannot.
func trainingConfig(r NetRow) (*train.Config, string, string) {
	g, why := trainingGroup(r)
	if why != "" {
		return nil, "", why
	}
	if _, err := model.Lookup(r.Model); err != nil {
		return nil, "", fmt.Sprintf("model %s is not in the catalog", r.Model)
	}
	if !strings.HasPrefix(r.ID, "ds3lab-") {
		return nil, "", "only the DS3Lab V100 hosts are described"
	}
	topo := r.RowTopology(ncclTransport)
	var levels []spec.Level
	for i, l := range topo.Levels {
		lv := spec.Level{Name: l.Name, Size: l.Size, BandwidthGbps: l.BandwidthGbps, LatencyUs: l.LatencyUs, Transport: l.Transport}
		if i == siteLevelIndex {
			lv.Algorithm = string(network.NCCL)
		}
		levels = append(levels, lv)
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
	c, err := train.Resolve(j, ds3labModel, hardware.Lookup)
	if err != nil {
		return nil, "", fmt.Sprintf("the job does not resolve: %v", err)
	}
	c.P2P = train.P2POverlapped
	c.UnfusedAttention = true
	c.HeadClasses = ds3labClasses
	switch g {
	case GroupTrainGPipeAR:
		c.GradSync = train.GradSyncPerTensor
	case GroupTrainZeRO3:
		c.ZeRO3Gather = train.ZeRO3FlatRoot
	}
	return c, g, ""
}

// defaultLinkNote marks the rows run on AWS's default link between the
// hosts, unshaped, whose 0.1 ms and 10 Gb/s are nominal.
const defaultLinkNote = "AWS default link, not shaped"

// defaultLink says whether r ran on AWS's unshaped default link.
func (r NetRow) defaultLink() bool { return strings.Contains(r.Notes, defaultLinkNote) }

// calibratesLink says whether r is one of the set's NCCL ring
// all-reduces on AWS's default link, the rows defaultLinkGbps is measured
// from (GroupLinkCalib).
func (r NetRow) calibratesLink() bool {
	if r.Kind != "collective" || r.Op != "all-reduce" || !r.defaultLink() || r.GPUs < 2 || !(r.MeasuredValue > 0) {
		return false
	}
	lib, ok := r.library()
	return ok && lib == ncclTransport
}

// defaultLinkGbps is the line rate of AWS's default link between the
// p3.2xlarge hosts when every host sends and receives at once, as the
// set's own NCCL ring all-reduces over it measure it (the 8 rows of 128
// and 256 MiB on 4-32 hosts, BinhangYuan/tc_cluster_setting
// results/allreduce.md; NetRow.calibratesLink): each row's ring bytes,
// 2(n-1)/n of the buffer, over its time less the transport's start-up
// round trips and the ring's 2(n-1) one-way latencies, is the payload
// rate; over the transport's frame goodput it is a line rate; the mean
// over the rows stands for the link. The instances are rated "up to 10
// Gb/s" each way (AWS EC2 documentation, "Amazon EC2 instance network
// bandwidth", which warns that an instance may not reach it), and one
// direction alone reaches it (the NCCL send/recv rows on this link: 64
// MiB in 0.055 s), but the rings move 8-9 Gb/s; what holds traffic in
// both directions there is not known (the hosts' CPUs, which run TCP for
// both directions at once, are a candidate), so it is a measured figure,
// not a derived one. The shaped links (5 Gb/s and below) sit under it,
// and there the nominal rate predicts the same rings within 0.3%.
//
// RowTopology is the one description of the link that every row reads:
// the send/recv rows at the nominal rate, the rows whose hosts all send
// and receive at once (the Gloo all-reduces and the training rows) at
// this one. The 8 NCCL rows it comes from are priced at it too but
// reported apart as calibration rows (GroupLinkCalib), since they cannot
// test a rate fitted to them; FitNetwork leaves them out.
var defaultLinkGbps = sync.OnceValue(func() float64 {
	rows, err := NetworkRows()
	tech, terr := network.LookupTechnology(ncclTransport, "transport")
	if err != nil || terr != nil {
		return 0
	}
	var sum float64
	var n int
	for _, r := range rows {
		if !r.calibratesLink() {
			continue
		}
		oneWay := r.LatencyMs / 1e3
		steps := 2 * float64(r.GPUs-1)
		t := r.MeasuredValue - tech.StartupRTTs*2*oneWay - steps*oneWay
		if !(t > 0) {
			continue
		}
		payload := steps / float64(r.GPUs) * r.MessageBytes / t
		sum += payload / tech.FrameGoodput * bitsPerByte / 1e9
		n++
	}
	if n == 0 {
		return 0
	}
	return sum / float64(n)
})
