package schedule

import "fmt"

// OpType is the kind of work an Op does.
type OpType uint8

// Operation types. A schedule that does not split the backward uses
// FullBackward; split schedules use InputBackward and WeightBackward.
const (
	// Forward is F: one micro-batch through one model chunk.
	Forward OpType = iota
	// FullBackward is the whole backward of one micro-batch chunk (B and W
	// together, "BW").
	FullBackward
	// InputBackward is B: the gradient with respect to the chunk's input,
	// which the previous virtual stage waits for.
	InputBackward
	// WeightBackward is W: the gradient with respect to the weights,
	// which nobody waits for (Qi et al. 2023).
	WeightBackward
	// Send and Recv appear only in Work lists: the point-to-point
	// transfer of a Forward's activations or a backward's input gradient.
	Send
	Recv
)

func (t OpType) String() string {
	switch t {
	case Forward:
		return "F"
	case FullBackward:
		return "BW"
	case InputBackward:
		return "B"
	case WeightBackward:
		return "W"
	case Send:
		return "send"
	case Recv:
		return "recv"
	}
	return fmt.Sprintf("OpType(%d)", uint8(t))
}

// Op is one unit of work of one stage: Type applied to micro-batch
// MicroBatch on the stage's model chunk Chunk.
type Op struct {
	Type OpType
	// Fused, on a Forward, means it runs overlapped with the backward
	// that follows it in the list, as one "F&B" unit that starts when
	// both have their inputs and ends for both at once (DualPipe).
	Fused      bool
	MicroBatch int
	Chunk      int
}

func (o Op) String() string {
	s := fmt.Sprintf("%v%d.%d", o.Type, o.MicroBatch, o.Chunk)
	if o.Fused {
		s += "&"
	}
	return s
}

// Schedule is, for every pipeline stage, the ordered list of compute work
// it runs in one step. Stages[s] runs strictly in order; an op also waits
// for its dependencies (see Deps).
type Schedule struct {
	Kind Kind
	// Params are the parameters as normalised by Build (defaults filled
	// in).
	Params Params
	// Stages[s] is stage s's work in execution order.
	Stages [][]Op
	// virtual[s*chunks+c] is the virtual stage that chunk c of stage s
	// holds; owner is the inverse.
	virtual []int
	owner   []int
	split   bool
}

// NumStages is the number of pipeline stages.
func (s *Schedule) NumStages() int { return s.Params.Stages }

// NumChunks is the number of model chunks per stage.
func (s *Schedule) NumChunks() int { return s.Params.Chunks }

// NumVirtual is the number of virtual stages (model pieces in order).
func (s *Schedule) NumVirtual() int { return s.Params.Stages * s.Params.Chunks }

// SplitBackward reports whether some backward work is split into B and
// W (zb-h1 and zb-v split all of it, dualpipev part of it).
func (s *Schedule) SplitBackward() bool { return s.split }

// VirtualStage is the position in the model of chunk chunk of stage
// stage: 0 holds the first layers, NumVirtual()-1 the last. Interleaved
// placement puts virtual stage c*pp+s on stage s; the V placement of zb-v
// and dualpipev puts s and 2*pp-1-s there.
func (s *Schedule) VirtualStage(stage, chunk int) int {
	return s.virtual[stage*s.Params.Chunks+chunk]
}

// Placement returns the stage and chunk that hold virtual stage k.
func (s *Schedule) Placement(k int) (stage, chunk int) {
	i := s.owner[k]
	return i / s.Params.Chunks, i % s.Params.Chunks
}

// Dep is one op that another op waits for.
type Dep struct {
	Stage int
	Op    Op
}

// Deps lists what op (run by stage) waits for. Let k be op's virtual
// stage and V the number of virtual stages:
//
//   - F of k waits for F of k-1 on the same micro-batch (k > 0), plus the
//     transfer of its activations when k-1 lives on another stage;
//   - B (or BW) of k waits for F of k, and for B (or BW) of k+1 on the
//     same micro-batch (k < V-1) plus the transfer of its gradient;
//   - W of k waits for B of k.
func (s *Schedule) Deps(stage int, op Op) []Dep {
	k := s.VirtualStage(stage, op.Chunk)
	var deps []Dep
	add := func(vk int, t OpType) {
		st, c := s.Placement(vk)
		if t != Forward {
			t = s.backwardType(st, op.MicroBatch, c, t)
		}
		deps = append(deps, Dep{Stage: st, Op: Op{Type: t, MicroBatch: op.MicroBatch, Chunk: c}})
	}
	back := InputBackward
	switch op.Type {
	case Forward:
		if k > 0 {
			add(k-1, Forward)
		}
	case FullBackward, InputBackward:
		add(k, Forward)
		if k < s.NumVirtual()-1 {
			add(k+1, back)
		}
	case WeightBackward:
		add(k, InputBackward)
	}
	return deps
}

// backwardType says whether stage runs micro-batch mb's backward on chunk
// as one op (FullBackward) or split (InputBackward); def if absent.
func (s *Schedule) backwardType(stage, mb, chunk int, def OpType) OpType {
	if stage < 0 || stage >= len(s.Stages) {
		return def
	}
	for _, o := range s.Stages[stage] {
		if o.MicroBatch == mb && o.Chunk == chunk && (o.Type == FullBackward || o.Type == InputBackward) {
			return o.Type
		}
	}
	return def
}

// PeakInFlight is the largest number of micro-batch chunks whose
// activations stage holds at once while running its list: a Forward adds
// one, and the backward that consumes the activations (FullBackward, or
// InputBackward when split) removes it. A chunk's activations count as one
// unit whatever the chunk's size, so for interleaved and V schedules one
// unit is 1/Chunks of a stage's layers.
func (s *Schedule) PeakInFlight(stage int) int {
	return s.peak(stage, InputBackward)
}

// PeakHeld is like PeakInFlight but keeps a micro-batch chunk until its
// weight gradient is done (W, or BW when not split): after B, the inputs
// and output gradients that W needs are still stored. It is the measure
// the zero-bubble paper bounds (Qi et al. 2023: ZB-H1 peaks at 1F1B's pp
// micro-batches).
func (s *Schedule) PeakHeld(stage int) int {
	return s.peak(stage, WeightBackward)
}

// peak is the largest number of micro-batch chunks that stage holds at
// once: a Forward takes one, and a FullBackward or an op of type split
// (the half of a split backward after which the chunk is let go) gives
// it back.
func (s *Schedule) peak(stage int, split OpType) int {
	n, most := 0, 0
	for _, op := range s.Stages[stage] {
		switch op.Type {
		case Forward:
			n++
			most = max(most, n)
		case FullBackward, split:
			n--
		}
	}
	return most
}

// WorkItem is one entry of a stage's full work list: a compute op, or
// the Send or Recv of the data an op produces or needs. For Send and Recv,
// Op names the compute op whose output moves (Forward: activations;
// backward: input gradient) and Peer is the other stage.
type WorkItem struct {
	Op
	// Kind is Op.Type for compute, or Send / Recv.
	Kind OpType
	Peer int
}

// Work returns stage's ordered work including point-to-point transfers:
// a Recv before each op that needs data from another stage and a Send
// after each op whose output another stage needs. Transfers between
// chunks of the same stage stay local and are not listed.
func (s *Schedule) Work(stage int) []WorkItem {
	var out []WorkItem
	V := s.NumVirtual()
	for _, op := range s.Stages[stage] {
		k := s.VirtualStage(stage, op.Chunk)
		var from, to = -1, -1
		switch op.Type {
		case Forward:
			if k > 0 {
				from, _ = s.Placement(k - 1)
			}
			if k < V-1 {
				to, _ = s.Placement(k + 1)
			}
		case FullBackward, InputBackward:
			if k < V-1 {
				from, _ = s.Placement(k + 1)
			}
			if k > 0 {
				to, _ = s.Placement(k - 1)
			}
		}
		if from >= 0 && from != stage {
			src := op
			if op.Type == Forward {
				src.Chunk = chunkOf(s, k-1)
			} else {
				src.Chunk = chunkOf(s, k+1)
			}
			out = append(out, WorkItem{Op: src, Kind: Recv, Peer: from})
		}
		out = append(out, WorkItem{Op: op, Kind: op.Type, Peer: -1})
		if to >= 0 && to != stage {
			out = append(out, WorkItem{Op: op, Kind: Send, Peer: to})
		}
	}
	return out
}

func chunkOf(s *Schedule, k int) int {
	_, c := s.Placement(k)
	return c
}
