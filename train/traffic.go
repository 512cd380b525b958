package train

import (
	"github.com/scaleacross/scaleacross/network"
	"github.com/scaleacross/scaleacross/parallel"
	"github.com/scaleacross/scaleacross/topology"
)

// traffic reports, per parallel dimension and topology level, the bytes
// one GPU of the most loaded stage sends per step and the time those
// transfers take (exposed or hidden), with the number of concurrent
// groups of that dimension crossing the level.
func (e *evaluator) traffic(w stageWork, mb int) []LevelTraffic {
	c := e.c
	p := &c.Parallel
	m := c.Model
	T := float64(c.Batch.MicroBatch) * float64(c.Batch.SeqLen) / float64(p.CP)
	h := float64(m.Hidden)
	fm := float64(mb)
	recompute := 1.0
	if c.Recompute == parallel.RecomputeFull {
		recompute = 1.5
	}
	// The sums by dimension and level live on the stack for hierarchies
	// of up to smallLevels levels; only the table escapes. Each transfer
	// is added as it is named (each dimension's in the order below).
	n := len(c.Topology.Levels)
	dims := allDims()
	var sums [2 * numDims * smallLevels]float64
	buf := sums[:0]
	if k := 2 * len(dims) * n; k <= len(sums) {
		buf = sums[:k]
	} else {
		buf = make([]float64, k)
	}
	sent, times := buf[:len(dims)*n], buf[len(dims)*n:]
	add := func(d topology.Dim, k network.Kind, bytes, count float64, s topology.Span) {
		if count > 0 && bytes > 0 {
			i := dimIndex(d) * n
			network.AddPerLevel(k, bytes, count, s, e.linksOf(d), sent[i:i+n], times[i:i+n])
		}
	}
	if p.TP > 1 {
		full := T * h * 2
		blocks := 2 * float64(w.layers) // attention and MLP of every layer
		if p.SP && m.MoE != nil && m.MoE.SharedExperts == 0 {
			// An MoE block under SP gathers routed tokens over etp instead (below).
			blocks -= float64(w.moeLayers)
		}
		n := fm * blocks * 2 * recompute // forward and backward
		if p.SP {
			add(topology.TP, network.AllGather, full, n, e.span(topology.TP))
			add(topology.TP, network.ReduceScatter, full, n, e.span(topology.TP))
		} else {
			add(topology.TP, network.AllReduce, full, n, e.span(topology.TP))
		}
	}
	if p.CP > 1 {
		qk, vd := float64(m.HeadDim), float64(m.HeadDim)
		if a := m.MLA; a != nil {
			qk, vd = float64(a.QKNopeHeadDim+a.QKRopeHeadDim), float64(a.VHeadDim)
		}
		kvPer := max(float64(m.KVHeads)/float64(p.TP), 1)
		kv := T * kvPer * (qk + vd) * 2
		add(topology.CP, network.P2P, kv, fm*float64(w.layers)*3*float64(p.CP-1), e.span(topology.CP))
	}
	if m.MoE != nil && w.moeLayers > 0 {
		// What the busiest receiver waits for, as layerWork prices it: the
		// capacity padding and the routing skew (routingLoad) included.
		_, pad, skew := e.routingLoad(0, p.EP)
		routed := T * float64(m.MoE.TopK) / float64(p.TP) * h
		sent := routed * pad * skew
		dispatch := e.dispatchBytes()
		n := fm * float64(w.moeLayers)
		moeRe := recompute
		if c.Recompute == parallel.RecomputeMoE {
			moeRe = 2 // the backward re-runs the dispatch and the combine
		}
		add(topology.EP, network.AllToAll, sent*dispatch, n*moeRe, e.span(topology.EP))
		add(topology.EP, network.AllToAll, sent*2, n*(2+moeRe), e.span(topology.EP))
		if etp := p.ExpertTP(); etp > 1 {
			// The etp gather of the dispatched tokens and the reduce-scatter
			// before the combine, forward; their mirrors backward (layerWork).
			gathered := routed * float64(etp)
			add(topology.TP, network.AllGather, gathered*dispatch, n*recompute, e.etpSpan)
			add(topology.TP, network.ReduceScatter, gathered*2, n*recompute, e.etpSpan)
			add(topology.TP, network.AllGather, gathered*2, n*2, e.etpSpan)
		}
	}
	// The sends over each level (below, with the others of their row).
	ppBytes := e.p2pBytes()
	dpDense := e.dpSpan(p.DP * p.CP)
	dpExpert := e.dpSpan(p.EDP())
	rounds := 1.0
	switch p.Zero {
	case 2:
		rounds = fm // gradients reduce-scattered every micro-batch
	case 3:
		rounds = fm
	}
	for _, part := range []struct {
		params float64
		span   topology.Span
	}{{w.denseParams, dpDense}, {w.experts, dpExpert}} {
		add(topology.DP, network.ReduceScatter, part.params*e.gradBytes(), rounds, part.span)
		ag := 1.0
		if p.Zero == 3 {
			ag = 2 * fm // before forward and before backward
		}
		add(topology.DP, network.AllGather, part.params*e.gradBytes(), ag, part.span)
	}

	if sendsAt := e.sendsAt(&w); len(sendsAt) > 0 && ppBytes > 0 {
		// One span per level: a p2p prices at its span's outermost level.
		var rb [smallLevels]int
		row := rb[:0]
		if len(sendsAt) <= len(rb) {
			row = rb[:len(sendsAt)]
		} else {
			row = make([]int, len(sendsAt))
		}
		k := dimIndex(topology.PP) * n
		for l, c := range sendsAt {
			if c == 0 {
				continue
			}
			for i := range row {
				row[i] = 1
			}
			row[l] = 2
			network.AddPerLevel(network.P2P, ppBytes, fm*float64(c), topology.Span{Factors: row}, e.linksOf(topology.PP), sent[k:k+n], times[k:k+n])
		}
	}
	rows := 0
	for _, x := range sent {
		if x != 0 {
			rows++
		}
	}
	var out []LevelTraffic
	if rows > 0 {
		out = make([]LevelTraffic, 0, rows)
	}
	for di, d := range dims {
		for i := 0; i < n; i++ {
			if sent[di*n+i] == 0 {
				continue
			}
			out = append(out, LevelTraffic{
				Dim: string(d), Level: c.Topology.Levels[i].Name, Bytes: sent[di*n+i], TimeS: times[di*n+i],
				Groups: e.groupsAcross(d, i), CrossesSite: i > 0 && e.isSite(i),
			})
		}
	}
	return out
}

// isSite is c.Topology.Levels[i].IsSite(), remembered by the scratch.
func (e *evaluator) isSite(i int) bool {
	if sc := e.sc; sc != nil {
		if len(sc.levelSite) != len(sc.levels) {
			for _, l := range sc.levels {
				sc.levelSite = append(sc.levelSite, l.IsSite())
			}
		}
		return sc.levelSite[i]
	}
	return e.c.Topology.Levels[i].IsSite()
}

// smallLevels is the most topology levels whose traffic sums traffic
// keeps on the stack; deeper hierarchies allocate them.
const smallLevels = 8

// groupsAcross counts the groups of dimension d whose traffic crosses one
// unit boundary of level i at the same time: every GPU of a level-(i-1)
// unit belongs to one group of d, and a group has Factors[..i-1] members
// inside that unit.
func (e *evaluator) groupsAcross(d topology.Dim, i int) int {
	s := e.span(d)
	if i >= len(s.Factors) || s.Factors[i] <= 1 {
		return 0
	}
	unit := 1
	if i > 0 {
		unit = e.c.Topology.Capacity(i - 1)
	}
	inner := 1
	for j := 0; j < i; j++ {
		inner *= s.Factors[j]
	}
	return unit / inner
}
