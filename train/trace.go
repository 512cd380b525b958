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
	for _, sp := range t.Pipeline.Spans {
		name, cat, th := "", "", trackCompute
		switch sp.Stream {
		case schedule.Compute:
			cat = sp.Op.Type.String()
			name = fmt.Sprintf("%s mb%d c%d", cat, sp.Op.MicroBatch, sp.Op.Chunk)
		case schedule.SendActivations:
			cat, th = "send", trackSendActivations
			name = fmt.Sprintf("send act mb%d c%d -> stage %d", sp.Op.MicroBatch, sp.Op.Chunk, sp.Peer)
		default:
			cat, th = "send", trackSendGradients
			name = fmt.Sprintf("send grad mb%d c%d -> stage %d", sp.Op.MicroBatch, sp.Op.Chunk, sp.Peer)
		}
		if th != trackCompute {
			out.Threads[[2]int{sp.Stage, th}] = map[int]string{trackSendActivations: "send activations", trackSendGradients: "send gradients"}[th]
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
