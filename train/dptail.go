package train

import (
	"github.com/scaleacross/scaleacross/topology"
)

// tailPace is the least time dataParallelTail puts between a stage's
// last backward ops of its nc chunks (a chunk's last backward comes n
// such ops before the next chunk's): the longest time a link between
// neighbouring stages takes to carry one message's bytes (its latency
// overlaps the messages behind), which spaces the gradients that the
// cool-down's ops wait for. Zero for one chunk, where the spacing is not
// used. Without that floor a faster TP link shortened the ops and moved
// the earlier chunks' reductions later by up to c*max(consecutive, pp)
// times the saving where a slow link, not the ops, sets the pipeline's
// time (its busy time or round trip holds the step), and a step got up
// to 0.075% slower (TestPropertyPipelineBoundsAndMonotone over 3 x
// 20,000 draws: interleaved pp 2 m 4 over a 1.5 Gb/s, 24 ms boundary).
// On links that keep up with the ops it changes nothing
// (TestEngineAgreementSpread's jobs and validate's rows are unchanged).
func (e *evaluator) tailPace(nc int) float64 {
	if nc < 2 {
		return 0
	}
	// Adjacent stages s and s+1 meet at level adjLevel[s]; runs of
	// boundaries at one level (the stages of one unit) take one look.
	bytes := e.p2pBytes()
	links := e.linksOf(topology.PP)
	var most float64
	last := -1
	for _, l := range e.adjLevel[:max(e.c.Parallel.PP-1, 0)] {
		if l != last {
			most = max(most, bytes/links[l].BytesPerSec)
			last = l
		}
	}
	return most
}
