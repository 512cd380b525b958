package infer

import (
	"fmt"
	"math"

	"github.com/scaleacross/scaleacross/hardware"
	"github.com/scaleacross/scaleacross/model"
	"github.com/scaleacross/scaleacross/specdec"
)

// Workload is the traffic served.
type Workload struct {
	Batch     int
	InputLen  int
	OutputLen int
	// Context is the committed length at which decode is priced; 0 means
	// InputLen + OutputLen/2, the mean over the generation.
	Context int
}

// DecodeContext is the context decode steps are priced at.
func (w Workload) DecodeContext() int {
	if w.Context > 0 {
		return w.Context
	}
	return w.InputLen + w.OutputLen/2
}

// PeakContext is the longest sequence the KV cache must hold.
func (w Workload) PeakContext() int { return max(w.Context, w.InputLen+w.OutputLen) }

// Speculative configures speculative decoding: EAGLE-style draft heads
// (eagle, eagle3), the target's MTP module (mtp), a separate draft model
// (draft) or prompt lookup (ngram).
type Speculative struct {
	Method specdec.Method
	// DraftLayers is the number of dense decoder layers of an EAGLE draft.
	DraftLayers int
	// DraftModel is the separate draft model of method draft.
	DraftModel *model.Model
	// Tree is a fixed draft tree; nil means choose the best per batch.
	Tree *specdec.Tree
	// MaxNodes and MaxDepth bound the automatic tree search.
	MaxNodes, MaxDepth int
	Acceptance         specdec.Acceptance
	// DraftEager runs the draft passes without CUDA graphs while the
	// target keeps them: vLLM V1 captured the EAGLE drafter in CUDA graphs
	// only from PR #17211 (EAGLE, April 2025) and PR #17504 (EAGLE-3,
	// May 2025, which cut a 3-token proposal from ~16 to ~6 ms in its
	// profile); releases before ran it eagerly.
	DraftEager bool
	// DraftExtendEager runs only the draft's extend (its pass over the
	// tokens accepted last step) without CUDA graphs, the draft steps and
	// the verify keeping theirs: SGLang captured the EAGLE draft-extend
	// in CUDA graphs only from PR #6606 (FA3, 2025-05-26; +11% per-user
	// throughput for DeepSeek-V3 on 8 GPUs at batch 1), #6705 (Triton)
	// and #6805 (FlashInfer, 2025-06-02); releases before ran it eagerly.
	DraftExtendEager bool
}

// DraftVocab is the size of the draft's LM head: EAGLE-1 reuses the
// target's head over the full vocabulary; EAGLE-3 drafts over a reduced
// 32,000-token vocabulary mapped to the target's (EAGLE-3, arXiv
// 2503.01840; draft_vocab_size in the released EAGLE-3 draft configs).
func (s *Speculative) DraftVocab(target *model.Model) int {
	if s.Method == specdec.EAGLE3 {
		return min(32000, target.Vocab)
	}
	return target.Vocab
}

// fusedInputs is how many hidden-size vectors the draft's input FC fuses:
// EAGLE-1 concatenates the token embedding and one target feature (2h);
// EAGLE-3 fuses low, middle and high target features (3h); an MTP module
// projects the normalised embedding and hidden state (its eh_proj, 2h);
// a separate draft model or n-gram lookup fuses nothing.
func (s *Speculative) fusedInputs() int {
	switch s.Method {
	case specdec.EAGLE3:
		return 3
	case specdec.Draft, specdec.NGram:
		return 0
	}
	return 2
}

// candidates are the draft shapes the automatic search considers: trees
// for EAGLE, chains for the chain-only methods.
func (s *Speculative) candidates() ([]specdec.Candidate, error) {
	if s.Tree != nil {
		return []specdec.Candidate{{Tree: s.Tree, Expected: s.Acceptance.ExpectedTokens(s.Tree)}}, nil
	}
	if s.Method.ChainOnly() {
		return specdec.ChainCandidates(s.Acceptance, s.MaxDepth), nil
	}
	return specdec.Candidates(s.Acceptance, s.MaxNodes, s.MaxDepth)
}

// draftModel is the model the draft passes run: for EAGLE a dense layer
// stack of the target's width, heads and dense FFN; for MTP the target's
// MTP module, one layer of the target's own kind (a MoE layer for
// DeepSeek-V3) with the target's head; for a draft model that model; nil
// for n-gram lookup, which runs no draft pass.
func (s *Speculative) draftModel(t *model.Model) *model.Model {
	switch s.Method {
	case specdec.MTP:
		d := *t
		d.ID, d.Layers = t.ID+"-mtp", max(1, t.MTPLayers)
		if t.MoE != nil {
			e := *t.MoE
			e.FirstDense = 0
			d.MoE = &e
		}
		return &d
	case specdec.Draft:
		return s.DraftModel
	case specdec.NGram:
		return nil
	}
	ffn := t.FFN
	if ffn == 0 && t.MoE != nil {
		ffn = t.MoE.ExpertFFN
	}
	return &model.Model{
		ID: t.ID + "-draft", Layers: s.DraftLayers, Hidden: t.Hidden, FFN: ffn,
		Heads: t.Heads, KVHeads: t.KVHeads, HeadDim: t.HeadDim, Vocab: s.DraftVocab(t),
		Act: model.SwiGLU, TiedEmbeddings: true, // the draft shares the target's input embedding
	}
}

// coster prices plain and speculative steps for specdec.Choose.
type coster struct {
	c     *Config
	draft *Config
	spec  *Speculative
	ctx   int
	// extend is the draft config of the extend pass where it differs
	// from draft (DraftExtendEager); nil means draft.
	extend *Config
}

// newCoster builds the step coster. EAGLE drafts run BF16, dense, with
// the target's TP; an MTP module keeps the target's formats and layout
// (it is a layer of the checkpoint); a draft model keeps the target's
// formats and TP, dense (no EP); n-gram lookup has no draft config.
func newCoster(c *Config, s *Speculative, ctx int) *coster {
	k := &coster{c: c, spec: s, ctx: ctx}
	dm := s.draftModel(c.Model)
	if dm == nil {
		return k
	}
	// The draft runs on one pipeline stage (the MTP module with the head
	// on the last; a draft model or head beside it): no stage sends, and
	// its weights and KV are not split over the stages.
	d := *c
	d.Model = dm
	d.GPUs, d.PP = c.stageGPUs(), 1
	if s.DraftEager {
		d.CUDAGraphs = false
	}
	switch s.Method {
	case specdec.MTP:
	case specdec.Draft:
		d.EP = 1
	default:
		d.Weights, d.KV, d.Activations = hardware.BF16, hardware.BF16, hardware.BF16
		d.EP = 1
	}
	k.draft = &d
	if s.DraftExtendEager && d.CUDAGraphs {
		e := d
		e.CUDAGraphs = false
		k.extend = &e
	}
	return k
}

// PlainStep is one decode step: forward, sampling, exposed host time.
func (k *coster) PlainStep(b int) (float64, error) {
	c := k.c
	t := c.Forward(Pass{Batch: b, Tokens: 1, Context: k.ctx, Logits: 1}).Total
	t += c.sampleTime(math.Ceil(float64(b) / float64(c.dp())))
	if !c.Eff.HostOverlapPlain {
		t += c.hostTime(b)
	}
	return t, nil
}

// draftPass is one draft forward of q tokens per sequence after the
// first, with its input FC where the method fuses at every pass and the
// top-k over its vocabulary.
func (k *coster) draftPass(b, q int) float64 {
	return k.draftPassOn(k.draft, b, q, false)
}

// extendPass is the draft's extend over q accepted tokens per sequence,
// the step's first draft pass.
func (k *coster) extendPass(b, q int) float64 {
	d := k.draft
	if k.extend != nil {
		d = k.extend
	}
	return k.draftPassOn(d, b, q, true)
}

// draftPassOn is one draft pass on draft config d; first marks the
// step's first pass, the one that takes the target's features.
//
// The input FC that fuses the target's features is replicated on every
// TP rank, not split: vLLM builds it as torch.nn.Linear (EAGLE-1,
// llama_eagle.py; DeepSeek MTP's eh_proj, deepseek_mtp.py) or
// ReplicatedLinear (EAGLE-3, llama_eagle3.py), as SGLang does ("it may
// be worth to shard self.fc, as currently it doesn't get the benefits of
// TP", SGLang PR #4716). EAGLE-1 and MTP fuse the token embedding with a
// hidden state at every pass; EAGLE-3 fuses the target's three features
// once, in the first pass (combine_hidden_states), and its later passes
// feed the draft's own hidden state. EAGLE-3's decoder layer takes the
// embedding and the hidden state concatenated, 2h inputs to its QKV
// projection (split over TP as QKVParallelLinear), h more than the layer
// Forward prices.
func (k *coster) draftPassOn(d *Config, b, q int, first bool) float64 {
	if d == nil {
		return 0 // n-gram lookup: no GPU pass
	}
	t := d.Forward(Pass{Batch: b, Tokens: q, Context: k.ctx, Logits: q}).Total
	m := d.Model
	h := float64(m.Hidden)
	tok := math.Ceil(float64(b)/float64(d.dp())) * float64(q)
	peak := d.peakFLOPs() * d.Eff.GEMM
	if n := k.spec.fusedInputs(); n > 0 && (first || k.spec.Method != specdec.EAGLE3) {
		fc := float64(n) * h * h
		t += roofline(fc*2, d.hbm(), 2*fc*tok, peak)
		t += d.kernelUs() * 1e-6 // fc
	}
	if k.spec.Method == specdec.EAGLE3 {
		qkv := h * float64((m.Heads+2*m.KVHeads)*m.HeadDim) / float64(d.TP)
		t += roofline(qkv*2, d.hbm(), 2*qkv*tok, peak)
	}
	t += d.kernelUs()*1e-6 + tok*float64(m.Vocab)*4/d.hbm() // top-k
	return t
}

// SpecStep is one speculative step with tree t: the first draft pass
// over the tokens accepted last step (the draft's "extend"), one pass per
// further tree level, the verify pass over b*(n+1) tokens with two-pass
// tree attention, sampling over all verified positions, the speculative
// bookkeeping kernels and the host time the engine does not overlap.
func (k *coster) SpecStep(b int, t *specdec.Tree, expected float64) (float64, error) {
	return k.specParts(b, t, expected).Total, nil
}

// SpecParts is a speculative step by component, in seconds: the draft
// passes (less what overlaps the verify pass), the verify pass, sampling
// and bookkeeping kernels, and the host time not overlapped.
type SpecParts struct {
	Draft  float64 `json:"draft_s"`
	Verify float64 `json:"verify_s"`
	Other  float64 `json:"sampling_and_kernels_s"`
	Host   float64 `json:"host_s"`
	Total  float64 `json:"total_s"`
}

func (k *coster) specParts(b int, t *specdec.Tree, expected float64) SpecParts {
	widths := t.LevelWidths()
	return k.engineStep(b, widths[:len(widths)-1], t.Size(), expected)
}

// engineStep prices a speculative step in the shape engines run it: the
// draft's extend over the tokens accepted last step, one draft pass per
// entry of passes with that many tokens per sequence (a tree's level
// widths but its last; SGLang's speculative_num_steps-1 passes of
// speculative_eagle_topk tokens), and the verify pass over n+1 tokens per
// sequence (n draft nodes; SGLang's speculative_num_draft_tokens is n+1).
func (k *coster) engineStep(b int, passes []int, n int, expected float64) SpecParts {
	c := k.c
	draft := k.extendPass(b, int(math.Ceil(expected)))
	for _, w := range passes {
		draft += k.draftPass(b, w)
	}
	var p SpecParts
	p.Verify = c.Forward(Pass{Batch: b, Tokens: n + 1, Context: k.ctx, Logits: n + 1}).Total
	p.Draft = draft - math.Min(c.Eff.DraftOverlap*draft, p.Verify)
	p.Other = c.sampleTime(math.Ceil(float64(b)/float64(c.dp()))*float64(n+1)) + float64(c.Eff.SpecKernels)*c.kernelUs()*1e-6
	if !c.Eff.HostOverlapSpec {
		p.Host = c.hostTime(b)
	}
	if k.spec.Method == specdec.NGram {
		// The lookup runs on the host before the verify pass can start.
		p.Host += c.Eff.NGramPerSeqUs * float64(b) * 1e-6
	}
	p.Total = p.Draft + p.Verify + p.Other + p.Host
	return p
}

// whyNot explains why the best tree of a batch does not pay: its step
// against the plain steps it replaces, by component, naming the largest
// cost beyond one plain step.
func (k *coster) whyNot(b int, ch specdec.Choice) string {
	if ch.Best == nil {
		return ""
	}
	p := k.specParts(b, ch.Best, ch.BestExpected)
	plain := ch.PlainStepS
	terms := []struct {
		name string
		v    float64
	}{
		{fmt.Sprintf("the verify pass of %d tokens per sequence costs %.2fx a plain step", ch.Best.Size()+1, p.Verify/plain), p.Verify - plain},
		{"the draft passes", p.Draft},
		{"sampling and bookkeeping kernels", p.Other},
		{fmt.Sprintf("host time not overlapped (%.0f us per step + %.0f us per sequence)", k.c.Eff.HostStepUs, k.c.Eff.HostPerSeqUs), p.Host},
	}
	top := 0
	for i, t := range terms {
		if t.v > terms[top].v {
			top = i
		}
	}
	return fmt.Sprintf("the best tree (%d nodes, %.2f tokens/step) needs a %.2f ms step against %.2f x %.2f = %.2f ms of plain steps (verify %.2f, draft %.2f, sampling %.2f, host %.2f ms); mostly %s",
		ch.Best.Size(), ch.BestExpected, p.Total*1e3, ch.BestExpected, plain*1e3, ch.BestExpected*plain*1e3,
		p.Verify*1e3, p.Draft*1e3, p.Other*1e3, p.Host*1e3, terms[top].name)
}

// draftMemory is the draft's weights and per-sequence KV on one GPU.
func (k *coster) draftMemory(ctx int) (weights, perSeq float64) {
	d := k.draft
	switch {
	case d == nil:
		return 0, 0
	case k.spec.Method == specdec.Draft:
		return d.WeightBytes(), d.KVBytesPerSeq(ctx)
	case k.spec.Method == specdec.MTP:
		// The module's layer and eh_proj; it shares the target's embedding
		// and head, already counted.
		// eh_proj is a BF16 nn.Linear replicated on every TP rank
		// (draftPassOn).
		h := float64(d.Model.Hidden)
		w := d.WeightBytes() - float64(d.Model.EmbeddingParams()+d.Model.HeadParams())*hardware.BF16.BytesPerElement()/float64(d.TP)
		return w + 2*h*h*hardware.BF16.BytesPerElement(), d.KVBytesPerSeq(ctx)
	}
	m := d.Model
	h := float64(m.Hidden)
	split := float64(m.Layers)*float64(m.AttentionParams()+m.DenseMLPParams()) + float64(m.Vocab)*h
	if k.spec.Method == specdec.EAGLE3 {
		split += h * float64((m.Heads+2*m.KVHeads)*m.HeadDim) // the QKV's second h inputs
	}
	// The fusing FC is replicated on every TP rank (draftPassOn).
	weights = split*2/float64(d.TP) + float64(k.spec.fusedInputs())*h*h*2
	return weights, d.KVBytesPerSeq(ctx)
}

// Result is the serving prediction. Times are per output token per
// sequence (ttit) and to the first token of a batch of prompts (ttft).
type Result struct {
	Model string `json:"model"`
	GPU   string `json:"gpu"`
	GPUs  int    `json:"gpus"`
	TP    int    `json:"tp"`
	EP    int    `json:"ep"`
	DP    int    `json:"dp"`
	// PP is the number of pipeline stages when above one.
	PP int `json:"pp,omitempty"`
	// Servers is the number of scale-up domains the deployment spans,
	// when above one.
	Servers   int    `json:"servers,omitempty"`
	Precision string `json:"precision"`
	Batch     int    `json:"batch"`
	Context   int    `json:"context"`

	TTITms           float64 `json:"ttit_ms"`
	TTFTms           float64 `json:"ttft_ms"`
	TokensPerS       float64 `json:"tokens_per_s"`
	TokensPerSPerGPU float64 `json:"tokens_per_s_per_gpu"`

	// Plain decoding, for comparison.
	PlainTTITms        float64   `json:"plain_ttit_ms"`
	PlainTokensPerS    float64   `json:"plain_tokens_per_s"`
	PlainStepBreakdown Breakdown `json:"plain_step_breakdown"`

	// Speculative decoding (absent with method none).
	Method                string  `json:"method,omitempty"`
	AcceptedTokensPerStep float64 `json:"accepted_tokens_per_step,omitempty"`
	Speedup               float64 `json:"speedup,omitempty"`
	// BestTreeSpeedup is the best tree's ratio over plain decoding, below 1
	// where speculation is switched off.
	BestTreeSpeedup float64             `json:"best_tree_speedup,omitempty"`
	Tree            [][]int             `json:"tree,omitempty"`
	TreeNodes       int                 `json:"tree_nodes,omitempty"`
	TreeDepth       int                 `json:"tree_depth,omitempty"`
	SpecStepMs      float64             `json:"spec_step_ms,omitempty"`
	SpeculationOn   bool                `json:"speculation_on,omitempty"`
	Acceptance      *specdec.Acceptance `json:"acceptance,omitempty"`

	Memory      Memory   `json:"memory"`
	Assumptions []string `json:"assumptions"`
}

// prepare checks s against c and returns the coster that prices w's
// steps, whether speculation is on (s non-nil with a method other than
// none), and the draft's weights and KV cache per GPU in bytes. Without
// speculation the coster carries a one-layer EAGLE draft that no plain
// step reads.
func prepare(c *Config, w Workload, s *Speculative) (k *coster, spec bool, dW, dKV float64, err error) {
	ctx := w.DecodeContext()
	if s == nil || s.Method == specdec.None || s.Method == "" {
		return newCoster(c, &Speculative{Method: specdec.EAGLE, DraftLayers: 1}, ctx), false, 0, 0, nil
	}
	if err := s.check(c); err != nil {
		return nil, false, 0, 0, err
	}
	if err := s.Acceptance.Validate(); err != nil {
		return nil, false, 0, 0, &ConfigError{"speculative.acceptance", err.Error()}
	}
	k = newCoster(c, s, ctx)
	dW, dKV = k.draftMemory(w.PeakContext())
	return k, true, dW, dKV, nil
}

// Predict prices serving workload w on c, with speculative decoding when
// s is non-nil and its method is not none.
func Predict(c *Config, w Workload, s *Speculative) (*Result, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if w.Batch < 1 {
		return nil, &ConfigError{"workload.batch", fmt.Sprintf("must be at least 1, got %d", w.Batch)}
	}
	if w.InputLen < 1 {
		return nil, &ConfigError{"workload.input_len", fmt.Sprintf("must be at least 1, got %d", w.InputLen)}
	}
	if w.OutputLen < 1 {
		return nil, &ConfigError{"workload.output_len", fmt.Sprintf("must be at least 1, got %d", w.OutputLen)}
	}
	if w.Context < 0 {
		return nil, &ConfigError{"workload.context", "must not be negative"}
	}
	ctx := w.DecodeContext()
	k, spec, dW, dKV, err := prepare(c, w, s)
	if err != nil {
		return nil, err
	}
	mem := c.Capacity(w.PeakContext(), dW, dKV)
	if mem.WeightsB+mem.DraftB+mem.ReservedB > mem.CapacityB {
		return nil, &CapacityError{Batch: w.Batch, Context: w.PeakContext(), Memory: mem,
			Reason: fmt.Sprintf("weights do not fit: %.1f GiB of weights and draft per GPU plus %.1f GiB reserved exceed %.1f GiB of HBM; use more GPUs or a smaller precision",
				(mem.WeightsB+mem.DraftB)/(1<<30), mem.ReservedB/(1<<30), mem.CapacityB/(1<<30))}
	}
	if w.Batch > mem.MaxBatch {
		return nil, &CapacityError{Batch: w.Batch, Context: w.PeakContext(), MaxBatch: mem.MaxBatch, Memory: mem}
	}
	mem.KVB = mem.KVPerSeqB * math.Ceil(float64(w.Batch)/float64(c.dp()))

	plain, _ := k.PlainStep(w.Batch)
	pre := c.Forward(Pass{Batch: w.Batch, Tokens: w.InputLen, Context: 0, Logits: 1, Causal: true})
	ttft := pre.Total + c.sampleTime(float64(w.Batch))

	r := &Result{
		Model: c.Model.ID, GPU: c.GPU.ID, GPUs: c.GPUs, TP: c.TP, EP: c.ep(), DP: c.dp(),
		Precision: string(c.Weights), Batch: w.Batch, Context: ctx,
		TTFTms: ttft * 1e3, PlainTTITms: plain * 1e3,
		PlainTokensPerS:    float64(w.Batch) / plain,
		PlainStepBreakdown: c.Forward(Pass{Batch: w.Batch, Tokens: 1, Context: ctx, Logits: 1}),
		Memory:             mem,
		Assumptions:        c.assumptions(),
	}
	if pp := c.pp(); pp > 1 {
		r.PP = pp
	}
	if n := c.GPUs / c.nodeGPUs(); n > 1 {
		r.Servers = n
		r.Assumptions = append(r.Assumptions, fmt.Sprintf("%d servers of %d GPUs joined by %.0f Gb/s per GPU of scale-out network (%.0f us one way): all-to-alls and pipeline sends that cross servers are priced on it; with pp the time per token is one token's pass through every stage (no micro-batch overlap)",
			n, c.nodeGPUs(), c.GPU.NICGbps, c.GPU.ScaleOutLatencyUs))
	}
	ttit := plain
	if spec {
		var ch specdec.Choice
		var err error
		if s.Tree != nil {
			ch, err = specdec.Evaluate(k, w.Batch, s.Tree, s.Acceptance)
		} else {
			cands, cerr := s.candidates()
			if cerr != nil {
				return nil, &ConfigError{"speculative.tree", cerr.Error()}
			}
			ch, err = specdec.Choose(k, w.Batch, cands)
		}
		if err != nil {
			return nil, err
		}
		acc := s.Acceptance
		r.Method = string(s.Method)
		r.Acceptance = &acc
		// Speedup is what the chosen mode achieves: 1 when speculation is
		// switched off at this batch (plain decoding runs); the best tree's
		// ratio is kept beside it.
		r.Speedup, r.BestTreeSpeedup = 1, ch.Speedup
		r.SpecStepMs = ch.SpecStepS * 1e3
		if ch.Tree != nil {
			r.Speedup = ch.Speedup
			r.SpeculationOn = s.Tree != nil || ch.TimePerTokenS < plain
			r.Tree = ch.Tree.Paths()
			r.TreeNodes, r.TreeDepth = ch.Tree.Size(), ch.Tree.Depth()
			r.AcceptedTokensPerStep = ch.Expected
			ttit = ch.TimePerTokenS
		} else {
			r.AcceptedTokensPerStep = 1
		}
		if acc.Assumed {
			r.Assumptions = append(r.Assumptions, "acceptance is ASSUMED: "+acc.Source+"; set speculative.acceptance to your draft's measured per-depth acceptance")
		}
		r.Assumptions = append(r.Assumptions, s.draftAssumption(c))
		r.Assumptions = append(r.Assumptions, c.Eff.engineAssumption())
	}
	r.TTITms = ttit * 1e3
	r.TokensPerS = float64(w.Batch) / ttit
	r.TokensPerSPerGPU = r.TokensPerS / float64(c.GPUs)
	r.Assumptions = append(r.Assumptions, c.Model.Assumptions...)
	return r, nil
}

func (c *Config) assumptions() []string {
	e := c.Eff
	first, more := c.moeBandwidths()
	first /= c.GPU.HBMBandwidthGB * 1e9
	more /= c.GPU.HBMBandwidthGB * 1e9
	graphs := "with CUDA graphs"
	if !c.CUDAGraphs {
		graphs = "without CUDA graphs"
	} else if c.Piecewise {
		graphs = fmt.Sprintf("with piecewise CUDA graphs (attention eager, %.0f us of host time per graph break)", e.GraphBreakUs)
	}
	out := []string{
		fmt.Sprintf("efficiencies (documented defaults): %.0f%% of HBM bandwidth, %.0f%% of tensor peak for GEMMs, %.0f%% for attention, %.1f us per kernel %s", e.HBM*100, e.GEMM*100, e.Attention*100, c.kernelUs(), graphs),
		fmt.Sprintf("MoE routing is uniform: E(1-(1-k/E)^T) experts read per layer at T tokens, one token's experts at %.0f%% of HBM bandwidth and each further expert at %.0f%% (grouped GEMMs)", first*100, more*100),
		"LM head and embeddings BF16; decode priced at the mean context unless workload.context is set",
	}
	if c.Weights == hardware.INT4 {
		out = append(out, fmt.Sprintf("int4 weights (AWQ/GPTQ, group-128 scales and zeros) run Marlin's W4A16 kernels, streaming at %.0f%% of HBM bandwidth", c.weightHBM()/(c.GPU.HBMBandwidthGB*1e9)*100))
	}
	return out
}

// Speedup sweep ---------------------------------------------------------

// Point is one batch size of a sweep.
type Point struct {
	Batch       int     `json:"batch"`
	PlainTTITms float64 `json:"plain_ttit_ms"`
	SpecTTITms  float64 `json:"spec_ttit_ms"`
	Speedup     float64 `json:"speedup"`
	// BestTreeSpeedup is the best tree's ratio over plain decoding; Speedup
	// is 1 where that is below 1 and speculation is switched off.
	BestTreeSpeedup float64 `json:"best_tree_speedup,omitempty"`
	Accepted        float64 `json:"accepted_tokens_per_step"`
	Tree            [][]int `json:"tree,omitempty"`
	SpecOn          bool    `json:"speculation_on"`
	Fits            bool    `json:"fits"`
	MaxBatch        int     `json:"max_batch"`
	PlainTokensS    float64 `json:"plain_tokens_per_s"`
	SpecTokensS     float64 `json:"spec_tokens_per_s"`
	// WhyNot says, where speculation does not pay, what the best tree's
	// step costs against the plain steps it replaces.
	WhyNot string `json:"why_not,omitempty"`
}

// Sweep prices the batches with and without speculation. A batch beyond
// KV capacity is reported with Fits false rather than failing the sweep.
func Sweep(c *Config, w Workload, s *Speculative, batches []int) ([]Point, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	k, spec, dW, dKV, err := prepare(c, w, s)
	if err != nil {
		return nil, err
	}
	var cands []specdec.Candidate
	if spec {
		if cands, err = s.candidates(); err != nil {
			return nil, &ConfigError{"speculative.tree", err.Error()}
		}
	}
	mem := c.Capacity(w.PeakContext(), dW, dKV)
	var out []Point
	for _, b := range batches {
		if b < 1 {
			return nil, &ConfigError{"batch", fmt.Sprintf("sweep batch sizes must be at least 1, got %d", b)}
		}
		plain, _ := k.PlainStep(b)
		p := Point{Batch: b, PlainTTITms: plain * 1e3, SpecTTITms: plain * 1e3, Speedup: 1, Accepted: 1,
			Fits: b <= mem.MaxBatch, MaxBatch: mem.MaxBatch, PlainTokensS: float64(b) / plain}
		p.SpecTokensS = p.PlainTokensS
		if spec {
			// A fixed tree runs at every batch (its ratio may fall below
			// 1); with tree auto, speculation is switched off where no
			// tree pays, and plain decoding's 1.00x is what runs.
			var ch specdec.Choice
			var err error
			if s.Tree != nil {
				ch, err = specdec.Evaluate(k, b, s.Tree, s.Acceptance)
			} else {
				ch, err = specdec.Choose(k, b, cands)
			}
			if err != nil {
				return nil, err
			}
			p.BestTreeSpeedup = ch.Speedup
			if ch.Speedup < 1 {
				p.WhyNot = k.whyNot(b, ch)
			}
			if ch.Tree != nil {
				p.Speedup = ch.Speedup
				p.SpecOn = true
				p.Tree = ch.Tree.Paths()
				p.Accepted = ch.Expected
				p.SpecTTITms = ch.TimePerTokenS * 1e3
				p.SpecTokensS = float64(b) / ch.TimePerTokenS
			}
		}
		out = append(out, p)
	}
	return out, nil
}
