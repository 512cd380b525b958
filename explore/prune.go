package explore

import "github.com/scaleacross/scaleacross/schedule"

// Pruning. The keeper drops a candidate slower than the n-th fastest
// record it keeps whose memory headroom is no larger than that of every
// one of those n (keeper.add): such a candidate is neither among the n
// fastest nor on the Pareto front of any set that holds those n, so of
// no later state either, whatever comes after (the records kept only
// ever get faster). Its memory is known before its step is priced
// (pricer.job), so a lower bound on its step that is already slower than
// the n-th fastest proves, unpriced, that the search would not keep it:
// it is pruned, and the search keeps exactly the records the exhaustive
// search keeps (Options.Exhaustive; TestPruningKeepsTheExhaustiveResult).
//
// The bound is the compute of a stage, train.Breakdown.ComputeS (the
// most loaded stage's compute per step), of a candidate of the same
// group priced before it in the same chunk. A group is the consecutive
// candidates that differ only in transport and collective algorithm,
// which change no stage's compute: a stage's forward and backward
// compute is its layers' operators on the device (train's layerWork),
// which read degrees, micro-batch, recompute policy, precision and the
// stage's layers, never a link. The analytic step is the most loaded
// stage's work per micro-batch times the micro-batches (compute and
// communication, each non-negative) plus a bubble, an optimizer step and
// exposed communication that are never negative; the most loaded stage's
// work is at least any stage's compute. So every member's step is at
// least any member's ComputeS. TestPruneBoundBelowStep checks it over
// the groups of several spaces, and train's property test checks step >=
// ComputeS over random pipelines (TestPropertyPipelineBoundsAndMonotone).
//
// Only the candidates after the first priced member of their group in a
// chunk can be pruned, and only those whose quick memory check equals
// the engines' (every schedule but latency-aware-1f1b, whose extra
// warm-up the quick check leaves out), so that a pruned candidate counts
// as one that fits. Whether one is pruned depends on the chunk and on the
// bar its batch was given (searchSpace's launch), not on the workers'
// timing.

// bar is what a candidate must beat to be kept, read off the keeper when
// a batch is handed to the workers; the zero value prunes nothing.
type bar struct {
	ok bool
	// stepS is the step time of the n-th fastest record kept.
	stepS float64
	// capacity is the usable memory per GPU and headroomGiB the largest
	// headroom (capacity minus memory, as the keeper computes it) among
	// the n fastest.
	capacity, headroomGiB float64
}

// bar returns the keeper's bar: none until it holds n records, and none
// when it keeps everything.
func (k *keeper) bar() bar {
	t := k.threshold()
	if !t.full {
		return bar{}
	}
	return bar{ok: true, stepS: t.stepS, capacity: t.capacity, headroomGiB: t.headroomGiB}
}

// group is what a worker knows of the group of the candidate it prepares
// (pricer.job reports whether it continues the previous one's).
type group struct {
	// boundS is the largest ComputeS of the group's candidates priced so
	// far in this chunk: a lower bound on every member's step.
	boundS float64
}

// prunes reports whether j, a candidate of g's group, is proved by the
// bar not to be kept.
func (g *group) prunes(br bar, j *job) bool {
	return br.ok && g.boundS > br.stepS && j.pr.ok && j.fits &&
		j.c.Schedule != string(schedule.LatencyAware) && br.capacity-j.mem <= br.headroomGiB
}

// priced adds the compute of a member whose step was priced (0 when it
// was not) to the bound.
func (g *group) priced(computeS float64) { g.boundS = max(g.boundS, computeS) }
