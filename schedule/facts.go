package schedule

// This file holds what each schedule kind says about itself without being
// built: which parameters it accepts, how it places model chunks, whether
// its pipeline sends overlap compute, how many micro-batches a stage holds
// at its peak and the closed-form bubble. Build, both step engines, the
// memory model and the Explorer ask these methods, so a schedule's facts
// have one owner; a new schedule is added here and in Build.

// DefaultChunks is the number of model chunks per stage the kind runs when
// the job does not say: 2 for the V-shaped zb-v and dualpipev, else 1.
func (k Kind) DefaultChunks() int {
	if k.isV() {
		return 2
	}
	return 1
}

func (k Kind) isV() bool { return k == ZBV || k == DualPipeV }

// SplitsBackward reports whether the kind splits each backward into an
// input-gradient pass B and a weight-gradient pass W (the zero-bubble
// family and DualPipe).
func (k Kind) SplitsBackward() bool { return k == ZBH1 || k.isV() }

// OverlapsP2P reports whether the kind's pipeline sends run beside compute
// rather than holding the sending stage until they are through:
// Megatron-LM overlaps them for interleaved schedules (overlap_p2p_comm),
// the latency-aware schedule is built around it and DualPipe hides them
// under the paired pass (DeepSeek-V3 report, section 3.2.1). GPipe, 1F1B
// and ZB-H1 as Megatron-LM runs them block on each send.
func (k Kind) OverlapsP2P() bool { return k == Interleaved || k == LatencyAware || k == DualPipeV }

// HoldsAll reports whether every stage holds all the step's micro-batches
// at its peak (GPipe), rather than fewer on later stages.
func (k Kind) HoldsAll() bool { return k == GPipe }

// StageOf is the pipeline stage that holds virtual stage v (0-based, in
// model order) of a job with stages stages and chunks chunks per stage:
// round-robin for interleaved schedules, a V for zb-v and dualpipev
// (stage s holds virtual stages s and 2*stages-1-s).
func (k Kind) StageOf(stages, chunks, v int) int {
	if k.isV() && chunks == 2 && v >= stages {
		return 2*stages - 1 - v
	}
	return v % stages
}

// Check validates p for kind k and returns it with the kind's defaults
// filled in (Chunks, and Consecutive for interleaved orders). Errors are
// bad input naming the field to change. Build calls it, and so do the job
// resolver and the Explorer, so that what one accepts all accept.
func (k Kind) Check(p Params) (Params, error) {
	if p.Stages < 1 {
		return p, errorf("parallel.pp", "%s needs at least 1 pipeline stage, got %d", k.describe(), p.Stages)
	}
	if p.MicroBatches < 1 {
		return p, errorf("training.global_batch", "%s needs at least 1 micro-batch per step, got %d (raise global_batch or lower micro_batch*dp)", k.describe(), p.MicroBatches)
	}
	if p.Chunks < 0 || p.Consecutive < 0 || p.ExtraWarmup < 0 || p.MaxInFlight < 0 {
		return p, errorf("schedule", "%s: chunks (vp), consecutive, extra warm-up and max in-flight must not be negative", k.describe())
	}
	switch k {
	case GPipe, OneFOneB, ZBH1:
		if p.Chunks > 1 {
			return p, errorf("parallel.vp", "%s runs one model chunk per stage, got vp=%d; use interleaved-1f1b (or zb-v) for vp > 1, or set vp=1", k.describe(), p.Chunks)
		}
		p.Chunks = 1
	case Interleaved, LatencyAware:
		if p.Chunks == 0 {
			p.Chunks = 1
		}
		if k == Interleaved && p.Chunks < 2 {
			return p, errorf("parallel.vp", "%s needs vp >= 2 model chunks per stage, got %d; use 1f1b for vp=1", k.describe(), p.Chunks)
		}
		if p.Chunks > 1 {
			if p.MicroBatches < p.Stages {
				return p, errorf("training.global_batch", "%s with vp=%d needs at least pp=%d micro-batches per step, got %d; raise global_batch or use 1f1b", k.describe(), p.Chunks, p.Stages, p.MicroBatches)
			}
			if p.Consecutive == 0 {
				if p.MicroBatches%p.Stages != 0 {
					return p, errorf("training.global_batch", "%s needs the micro-batch count (global_batch/(dp*micro_batch) = %d) to be a multiple of pp=%d (Megatron-LM's interleaved order deadlocks otherwise)", k.describe(), p.MicroBatches, p.Stages)
				}
				p.Consecutive = p.Stages
			}
			if p.Consecutive < p.Stages {
				return p, errorf("schedule", "%s: %d consecutive micro-batches per chunk is below pp=%d; the interleaved order deadlocks unless each chunk runs at least pp micro-batches in a row (Megatron-LM's bound); use %d (depth-first) to %d (breadth-first)", k.describe(), p.Consecutive, p.Stages, p.Stages, p.MicroBatches)
			}
			if p.Consecutive > p.MicroBatches {
				return p, errorf("schedule", "%s: %d consecutive micro-batches per chunk exceed the %d micro-batches per step; use at most %d", k.describe(), p.Consecutive, p.MicroBatches, p.MicroBatches)
			}
			if r := p.MicroBatches % p.Consecutive; r != 0 && r < p.Stages {
				// A last group shorter than pp deadlocks some interleaved
				// orders (pp=4, vp=3, 5 micro-batches in groups of 4), as a
				// first group would; refuse them all rather than build each.
				return p, errorf("schedule", "%s: %d micro-batches in groups of %d consecutive leave a last group of %d, fewer than pp=%d; the interleaved order deadlocks on short groups, so choose a micro-batch count whose remainder is 0 or at least pp", k.describe(), p.MicroBatches, p.Consecutive, r, p.Stages)
			}
		}
		if k == LatencyAware {
			for _, b := range p.SlowBoundaries {
				if b < 0 || b >= p.Stages-1 {
					return p, errorf("schedule", "%s: slow boundary %d does not exist; boundaries are 0..%d (b lies between stage b and b+1)", k.describe(), b, p.Stages-2)
				}
			}
		}
	case ZBV, DualPipeV:
		if p.Chunks == 0 {
			p.Chunks = 2
		}
		if p.Chunks != 2 {
			return p, errorf("parallel.vp", "%s places exactly 2 model chunks per stage in a V, got vp=%d; set vp=2", k.describe(), p.Chunks)
		}
		if k == ZBV && p.Stages < 2 {
			return p, errorf("parallel.pp", "%s needs pp >= 2 (its V folds the model over at least two stages)", k.describe())
		}
		if need := vMinMicroBatches(k, p.Stages); p.MicroBatches < need {
			return p, errorf("training.global_batch", "%s with pp=%d needs at least %d micro-batches per step, got %d; raise global_batch or use zb-h1", k.describe(), p.Stages, need, p.MicroBatches)
		}
	default:
		return p, errorf("schedule", "unknown schedule %q", string(k))
	}
	return p, nil
}

// warmup is the number of forwards stage st runs before its first backward
// in the 1F1B frame shared by gpipe, 1f1b, zb-h1, interleaved-1f1b and
// latency-aware-1f1b; p must have passed Check. See buildOneFOneB and
// buildInterleaved for the sources.
func (k Kind) warmup(p Params, st int) int {
	m, v := p.MicroBatches, p.Chunks
	switch k {
	case GPipe:
		return m
	case OneFOneB, ZBH1:
		return min(p.Stages-1-st, m)
	}
	w := p.Stages - 1 - st
	if v > 1 {
		w = 2*(p.Stages-st-1) + (v-1)*p.Consecutive
	}
	base := min(w, m*v)
	if k != LatencyAware {
		return base
	}
	extra := p.ExtraWarmup
	if len(p.SlowBoundaries) > 0 {
		extra = 0
		for _, b := range p.SlowBoundaries {
			if b >= st || v > 1 {
				extra += p.ExtraWarmup
			}
		}
	}
	w += extra
	if c := p.MaxInFlight; c > 0 {
		// One steady-state forward runs before the first backward, so the
		// peak is the warm-up plus one.
		w = min(w, c-1)
	}
	return max(min(w, m*v), base)
}

// PeakHeld is the largest number of micro-batch chunks whose activations
// any stage holds at once, in the sense of Schedule.PeakHeld (a chunk is
// held from its forward to its weight gradient), computed in closed form:
// it equals the maximum of Build(k, p).PeakHeld over the stages, which a
// test checks for every kind over a grid of parameters. p must have passed
// Check.
//
//   - the 1F1B frame: a stage runs w forwards, then one more before its
//     first backward, so it peaks at min(w+1, m*chunks); stage 0 warms up
//     longest;
//   - zb-h1: 1F1B's peak, min(m, pp) (Qi et al. 2023, section 3.1);
//   - zb-v: two chunks per micro-batch in flight on stage 0, 2*min(m, pp);
//   - dualpipev: 2*pp+1 chunks on stage 0 once m >= 2*pp (DualPipe's
//     "PP+1" activation memory per direction, DeepSeek-V3 report, Table 2).
func (k Kind) PeakHeld(p Params) int {
	m, pp := p.MicroBatches, p.Stages
	switch k {
	case ZBH1:
		return min(m, pp)
	case ZBV:
		return 2 * min(m, pp)
	case DualPipeV:
		return 2*pp + 1
	}
	if pp < 1 {
		return 0
	}
	// Every kind's warm-up is non-increasing in the stage (fewer stages
	// after it, fewer slow boundaries at or after it, the same caps), so
	// the largest of the stages' peaks is stage 0's.
	return max(0, min(k.warmup(p, 0)+1, m*p.Chunks))
}

// HeldAt is the most micro-batches stage st of a one-chunk schedule in
// the 1F1B frame (1f1b, zb-h1, latency-aware-1f1b with one chunk) holds
// between a forward and its backward: its warm-up plus the steady-state
// forward that runs before its first backward, min(warm-up+1, m); m for
// GPipe. The step engines bound the pace of a stage by it (a micro-batch
// must come back before the stage may start one more). It is 0 for
// kinds or chunk counts outside that frame. p must have passed Check.
func (k Kind) HeldAt(p Params, st int) int {
	if k.isV() || k == Interleaved || p.Chunks > 1 {
		return 0
	}
	return min(k.warmup(p, st)+1, p.MicroBatches)
}

// FusedShare is the share of stage st's forward passes that DualPipeV
// runs fused with a backward (Op.Fused, DeepSeek-V3's F&B, whose
// all-to-all hides under the other pass's compute): of its 2m chunk
// forwards, the steady phase fuses 2(m-2p+st+1) and the cool-down p-st-1
// (dualPipeVStage), so few micro-batches leave most passes unfused. It is
// 0 for other kinds. p must have passed Check.
func (k Kind) FusedShare(p Params, st int) float64 {
	if k != DualPipeV || p.MicroBatches < 1 {
		return 0
	}
	m, pp := p.MicroBatches, p.Stages
	fused := 2*(m-2*pp+st+1) + (pp - st - 1)
	if st == pp-1 {
		fused-- // the turn of the V runs its first pair apart
	}
	return float64(max(fused, 0)) / float64(2*m)
}

// InFlight is PeakHeld in whole-stage units: the peak number of
// micro-batches whose activations the most loaded stage holds, a chunk
// counting 1/Chunks of a micro-batch. Both step engines and the memory
// model size activation memory with it.
func (k Kind) InFlight(p Params) float64 {
	return float64(k.PeakHeld(p)) / float64(max(p.Chunks, 1))
}

// Bubble is the closed-form idle time of one step of kind k with p's
// stages, chunks and micro-batches, given the average stage's forward F,
// input-gradient backward B and weight-gradient backward W for one
// micro-batch (all its chunks, communication included), in seconds:
//
//   - GPipe and 1F1B: (p-1)(F+B+W) (Narayanan et al. 2021, arXiv 2104.04473);
//   - interleaved 1F1B with v chunks: (p-1)(F+B+W)/v (same paper);
//   - ZB-H1: (p-1)(F+B-W), a third of 1F1B's when F=B=W (Qi et al. 2023,
//     arXiv 2401.10241, section 3);
//   - ZB-V: (p-1)F of one chunk, the floor set by the last stage's first
//     forward (same paper, section 4);
//   - ZB-V below its steady state and DualPipeV: read off the built
//     order (zbvBubble, dualPipeVBubble). DualPipeV on p stages is
//     DualPipe on 2p ranks cut in half, so the DeepSeek-V3 report's
//     (PP/2-1)(F&B+B-3W) (arXiv 2412.19437, Table 2) has p-1 boundaries,
//     not p/2-1.
//
// These are steady-state figures. With few micro-batches the step can be
// no shorter than one micro-batch's forward and input-gradient path
// through every stage plus its last weight gradient, p(F+B)+W, so the
// bubble is at least that minus the m(F+B+W) of work; and ZB-H1 can only defer the weight gradients it has: of the 2(p-1) W it
// moves into the bubble at m >= p, it has (p-1)+min(m-1, p-1).
func (k Kind) Bubble(p Params, F, B, W float64) float64 {
	pp, m := p.Stages, p.MicroBatches
	q := float64(pp - 1)
	fm := float64(m)
	floor := max(0, float64(pp)*(F+B)+W-fm*(F+B+W))
	var b float64
	switch k {
	case Interleaved, LatencyAware:
		b = q * (F + B + W) / float64(max(p.Chunks, 1))
	case ZBH1:
		b = q*(F+B+W) - min(W, B)*(q+float64(min(m-1, pp-1)))
	case ZBV:
		b = zbvBubble(pp, m, F, B, W)
	case DualPipeV:
		b = dualPipeVBubble(pp, F/2, B/2, W/2)
	default:
		b = q * (F + B + W)
	}
	return max(b, floor)
}

// zbvBubble is ZB-V's idle time, read off the order Build gives it (Qi et
// al. 2023, section 4, Figure 5) for stages whose backward is at least
// their forward and weight gradient (B >= F >= W, as a layer's input
// gradient carries attention's backward and its GEMMs): with m <= p
// micro-batches the last stage waits for the V's descent, which each
// micro-batch shortens by one forward, (p-m)F + (p-1)B; beyond p each
// further micro-batch fills the drain with one more weight gradient,
// (p-1)B - (m-p)W; and the steady state leaves half a chunk's slower pass
// per stage boundary, (p-1)max(F,B)/2, or the input gradients the weight
// gradients cannot cover, (p-1)(B-W). TestZBVBubbleMatchesBuild holds it
// to the built schedule.
func zbvBubble(pp, m int, F, B, W float64) float64 {
	q, fp, fm := float64(pp-1), float64(pp), float64(m)
	steady := max(q*max(F, B)/2, q*(B-W))
	if m <= pp {
		return max(steady, (fp-fm)*F+q*B)
	}
	return max(steady, q*B-(fm-fp)*W)
}

// dualPipeVBubble is DualPipeV's idle time for per-chunk forward f,
// input-gradient backward b and weight-gradient backward w, read off the
// order Build gives it (deepseek-ai/DualPipe's dualpipev.py, see
// dualPipeVStage) for w <= b: it does not depend on the micro-batch count
// (m >= 2p), and each of the p-1 stage boundaries costs the larger of two
// paths, two forwards and the input gradient the weight passes cannot
// cover, 2f + max(0, b-w), or two input gradients and a forward less the
// weight pass, 2b + f - w, the turn of the V saving one forward. The
// DeepSeek-V3 report's (p-1)(F&B+B-3W) for DualPipe (Table 2) counts
// fused pairs that hide compute, which the built order with its
// dependencies does not reach. TestDualPipeVBubbleMatchesBuild holds it
// to the built schedule.
func dualPipeVBubble(pp int, f, b, w float64) float64 {
	q := float64(pp - 1)
	return max(q*(2*f+max(0, b-w)), q*(2*b+f-w)-f, 0)
}
