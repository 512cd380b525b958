package schedule

import (
	"errors"
	"fmt"
	"slices"
)

// Build returns the schedule of kind kind for p. Parameters that do not fit
// the kind (vp > 1 with gpipe, too few micro-batches for an interleaved
// schedule, ...) are bad-input errors (*fault.FieldError) that name
// the field and the fix. Every schedule returned has been checked to run
// to completion: its per-stage orders admit no deadlock.
func Build(kind Kind, p Params) (*Schedule, error) {
	k, err := ParseKind(string(kind))
	if err != nil {
		return nil, err
	}
	if p, err = k.Check(p); err != nil {
		return nil, err
	}
	s := &Schedule{Kind: k, Params: p}
	s.Params.SlowBoundaries = slices.Clone(p.SlowBoundaries)
	switch k {
	case GPipe, OneFOneB, ZBH1:
		s.placeInterleaved()
		s.buildOneFOneB(k)
	case Interleaved, LatencyAware:
		s.placeInterleaved()
		s.buildInterleaved(k)
	case ZBV, DualPipeV:
		s.placeV()
		if err := s.buildV(k); err != nil {
			return nil, err
		}
	}
	if err := checkRuns(s); err != nil {
		var dl *DeadlockError
		if errors.As(err, &dl) {
			return nil, errorf("schedule", "%s with pp=%d, vp=%d, %d micro-batches and %d consecutive cannot run: %v", k.describe(), p.Stages, s.Params.Chunks, p.MicroBatches, s.Params.Consecutive, err)
		}
		return nil, fmt.Errorf("checking %s: %w", k.describe(), err)
	}
	return s, nil
}

// placeInterleaved puts virtual stage c*pp+s on chunk c of stage s.
func (s *Schedule) placeInterleaved() {
	p, v := s.Params.Stages, s.Params.Chunks
	s.virtual = make([]int, p*v)
	s.owner = make([]int, p*v)
	for st := 0; st < p; st++ {
		for c := 0; c < v; c++ {
			k := c*p + st
			s.virtual[st*v+c] = k
			s.owner[k] = st*v + c
		}
	}
}

// placeV puts virtual stages s and 2*pp-1-s on stage s (chunks 0 and 1),
// so that the first and last model pieces share stage 0.
func (s *Schedule) placeV() {
	p := s.Params.Stages
	s.virtual = make([]int, 2*p)
	s.owner = make([]int, 2*p)
	for st := 0; st < p; st++ {
		for c, k := range [2]int{st, 2*p - 1 - st} {
			s.virtual[st*2+c] = k
			s.owner[k] = st*2 + c
		}
	}
}

// mc is a (micro-batch, chunk) pair.
type mc struct{ mb, chunk int }

// buildOneFOneB builds gpipe, 1f1b and zb-h1, which share 1F1B's frame:
// stage s (0-based) runs w_s warm-up forwards, then pairs of one forward
// and one backward, then the remaining backwards.
//
//   - gpipe: w_s = m (all forwards, then all backwards);
//   - 1f1b: w_s = min(pp-1-s, m) (Narayanan et al. 2021, PipeDream-Flush);
//   - zb-h1: 1f1b's frame with the backward split into B and W, and stage
//     s running the W of its k-th backward after its (k+s)-th B, so W
//     passes slide into the cool-down where 1F1B idles (Qi et al. 2023,
//     section 3.1: "ZB-H1"). The extra s delayed W passes raise stage s's
//     held micro-batches to pp-s+s = pp, 1F1B's peak on stage 0.
func (s *Schedule) buildOneFOneB(k Kind) {
	p, m := s.Params.Stages, s.Params.MicroBatches
	order := make([]mc, m)
	for j := range order {
		order[j] = mc{j, 0}
	}
	s.split = k == ZBH1
	s.Stages = make([][]Op, p)
	for st := 0; st < p; st++ {
		s.Stages[st] = oneFOneB(order, order, k.warmup(s.Params, st), s.split, st)
	}
}

// buildInterleaved builds Megatron-LM's interleaved 1F1B with group size
// N = Consecutive: the forward order runs N micro-batches through chunk 0,
// the same N through chunk 1, ..., then the next N (the last group takes
// what is left); the backward order is the same with chunks reversed.
// Stage s warms up with min(2*(pp-s-1) + (vp-1)*N, m*vp) forwards
// (Narayanan et al. 2021; Megatron-LM's get_schedule_table and warm-up
// count), then alternates one forward and one backward. With vp=1 it is
// plain 1F1B.
//
// latency-aware-1f1b adds ExtraWarmup forwards per slow boundary that the
// stage's micro-batches cross before coming back (with vp=1 the
// boundaries at or after the stage; with vp > 1 all of them, since every
// chunk's pass crosses each; adding warm-up upstream only would deadlock
// the interleaved order), capped so that PeakInFlight stays within
// MaxInFlight (never below the plain schedule's warm-up).
func (s *Schedule) buildInterleaved(k Kind) {
	p, m, v := s.Params.Stages, s.Params.MicroBatches, s.Params.Chunks
	n := s.Params.Consecutive
	if v == 1 {
		n = m
	}
	fwd := make([]mc, 0, m*v)
	bwd := make([]mc, 0, m*v)
	for g := 0; g < m; g += n {
		end := min(g+n, m)
		for c := 0; c < v; c++ {
			for j := g; j < end; j++ {
				fwd = append(fwd, mc{j, c})
				bwd = append(bwd, mc{j, v - 1 - c})
			}
		}
	}
	s.Stages = make([][]Op, p)
	for st := 0; st < p; st++ {
		s.Stages[st] = oneFOneB(fwd, bwd, k.warmup(s.Params, st), false, 0)
	}
}

// oneFOneB lays out warmup forwards, then alternating forward and
// backward, then the remaining backwards. With split, each backward is a B
// and the W of backward k follows the B of backward k+lag; W passes left
// over go last.
func oneFOneB(fwd, bwd []mc, warmup int, split bool, lag int) []Op {
	n := len(fwd)
	size := 2 * n
	if split {
		size = 3 * n
	}
	out := make([]Op, 0, size)
	w := min(warmup, n)
	for i := 0; i < w; i++ {
		out = append(out, Op{Type: Forward, MicroBatch: fwd[i].mb, Chunk: fwd[i].chunk})
	}
	nb, nw := 0, 0
	back := func() {
		b := bwd[nb]
		nb++
		if !split {
			out = append(out, Op{Type: FullBackward, MicroBatch: b.mb, Chunk: b.chunk})
			return
		}
		out = append(out, Op{Type: InputBackward, MicroBatch: b.mb, Chunk: b.chunk})
		if nb-1-lag >= 0 {
			x := bwd[nw]
			nw++
			out = append(out, Op{Type: WeightBackward, MicroBatch: x.mb, Chunk: x.chunk})
		}
	}
	for i := w; i < n; i++ {
		out = append(out, Op{Type: Forward, MicroBatch: fwd[i].mb, Chunk: fwd[i].chunk})
		back()
	}
	for nb < n {
		back()
	}
	for split && nw < n {
		x := bwd[nw]
		nw++
		out = append(out, Op{Type: WeightBackward, MicroBatch: x.mb, Chunk: x.chunk})
	}
	return out
}
