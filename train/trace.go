package train

import (
	"fmt"
	"strconv"

	"github.com/scaleacross/scaleacross/schedule"
	"github.com/scaleacross/scaleacross/timeline"
)

// Threads of a stage's tracks in a rendered timeline.
const (
	trackCompute = iota
	trackSendActivations
	trackSendGradients
	trackDP
)

// Tracks renders the timeline with one process per pipeline stage and one
// thread per stream (compute, activation sends, gradient sends, data
// parallel and optimizer); ops are named with micro-batch and chunk.
func (t *Timeline) Tracks() *timeline.Timeline {
	out := &timeline.Timeline{Processes: map[int]string{}, Threads: map[[2]int]string{}}
	pp := t.Schedule.NumStages()
	for s := 0; s < pp; s++ {
		out.Processes[s] = fmt.Sprintf("stage %d", s)
		out.Threads[[2]int{s, trackCompute}] = "compute"
	}
	send := func(st, th int, name string, start, end float64, op schedule.Op) {
		out.Threads[[2]int{st, th}] = map[int]string{trackSendActivations: "send activations", trackSendGradients: "send gradients"}[th]
		out.Spans = append(out.Spans, timeline.Span{Process: st, Thread: th, Name: name, Category: "send", Start: start, End: end,
			Args: map[string]string{"micro_batch": strconv.Itoa(op.MicroBatch), "chunk": strconv.Itoa(op.Chunk)}})
	}
	if t.Start > 0 {
		// The part of the parameter all-gather that the first forward
		// cannot hide: every stage waits for it.
		for s := 0; s < pp; s++ {
			out.Threads[[2]int{s, trackDP}] = "data parallel"
			out.Spans = append(out.Spans, timeline.Span{Process: s, Thread: trackDP, Name: "param-gather (exposed)", Category: "dp", Start: 0, End: t.Start})
		}
	}
	for _, sp := range t.Pipeline.Spans {
		name, cat, th := "", "", trackCompute
		switch sp.Stream {
		case schedule.Compute:
			cat = sp.Op.Type.String()
			name = fmt.Sprintf("%s mb%d c%d", cat, sp.Op.MicroBatch, sp.Op.Chunk)
			if t.BlockingSend != nil {
				// A blocking send is the tail of the op that produced
				// the data: drawn on the send track over that tail.
				i, th, what := 2*sp.Op.Chunk, trackSendActivations, "act"
				if sp.Op.Type != schedule.Forward {
					i, th, what = i+1, trackSendGradients, "grad"
				}
				if sp.Op.Type != schedule.WeightBackward {
					if d := t.BlockingSend[sp.Stage][i]; d > 0 {
						send(sp.Stage, th, fmt.Sprintf("send %s mb%d c%d (blocking)", what, sp.Op.MicroBatch, sp.Op.Chunk), sp.End-d+t.Start, sp.End+t.Start, sp.Op)
					}
				}
			}
		case schedule.SendActivations:
			cat, th = "send", trackSendActivations
			name = fmt.Sprintf("send act mb%d c%d -> stage %d", sp.Op.MicroBatch, sp.Op.Chunk, sp.Peer)
		default:
			cat, th = "send", trackSendGradients
			name = fmt.Sprintf("send grad mb%d c%d -> stage %d", sp.Op.MicroBatch, sp.Op.Chunk, sp.Peer)
		}
		if th != trackCompute {
			if t.BlockingSend != nil {
				continue // the pipeline's zero-length transfers; drawn above
			}
			send(sp.Stage, th, name, sp.Start+t.Start, sp.End+t.Start, sp.Op)
			continue
		}
		out.Spans = append(out.Spans, timeline.Span{
			Process: sp.Stage, Thread: th, Name: name, Category: cat,
			Start: sp.Start + t.Start, End: sp.End + t.Start,
			Args: map[string]string{"micro_batch": strconv.Itoa(sp.Op.MicroBatch), "chunk": strconv.Itoa(sp.Op.Chunk)},
		})
	}
	for s, ivs := range t.DP {
		for _, iv := range ivs {
			out.Threads[[2]int{s, trackDP}] = "data parallel"
			out.Spans = append(out.Spans, timeline.Span{Process: s, Thread: trackDP, Name: fmt.Sprintf("%s c%d", iv.Name, iv.Chunk), Category: "dp", Start: iv.Start, End: iv.End})
		}
	}
	for s, iv := range t.Optimizer {
		if iv.End > iv.Start {
			out.Threads[[2]int{s, trackDP}] = "data parallel"
			out.Spans = append(out.Spans, timeline.Span{Process: s, Thread: trackDP, Name: iv.Name, Category: "optimizer", Start: iv.Start, End: iv.End})
		}
	}
	return out
}
