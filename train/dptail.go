package train

// tailOffsetOp is the time dataParallelTail puts between a stage's last
// backward ops of its chunks (a chunk's last backward comes n such ops
// before the next chunk's): one chunk's backward compute on stage w, of
// nc chunks. Its exposed communication (TP, CP, EP) is left out, as the
// zero-1 all-gather's cover (the forward's compute) already leaves it
// out: with it, a faster link shortened the offsets and moved a
// reduction later by up to c*max(consecutive, pp) times the saving, more
// than the step saved where the round-trip window bound holds the
// pipeline's time, so a faster link made the step up to 0.075% slower
// (TestPropertyPipelineBoundsAndMonotone, 3 x 20,000 draws, interleaved
// pp 2 m 4 with 24 ms between its stages). The engines' spread over
// TestEngineAgreementSpread's jobs moved from 2.98% to 2.93% at its 90th
// percentile with it.
func tailOffsetOp(w *stageWork, nc int) float64 {
	return w.bwd / float64(nc)
}
