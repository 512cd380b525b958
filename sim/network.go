package sim

import "math"

// Link is a shared resource with a capacity in bytes per second, such as a
// building-to-building fibre pair in one direction.
type Link struct {
	name     string
	capacity float64
	id       int
	// carried counts the bytes that have crossed the link.
	carried float64
}

// Name is the link's name.
func (l *Link) Name() string { return l.name }

// Capacity is the link's capacity in bytes per second.
func (l *Link) Capacity() float64 { return l.capacity }

// Carried is the number of bytes that have crossed the link so far
// (counted when transfers progress, i.e. at every rate change).
func (l *Link) Carried() float64 { return l.carried }

// Transfer is a message of a number of bytes moving over a path of links.
type Transfer struct {
	bytes     float64
	remaining float64
	rate      float64
	path      []int
	pathBuf   [2]int // path's storage for the usual one or two links
	done      func()
	start     float64
	finished  bool
	// weight is the number of identical flows the transfer stands for and
	// cap the most each of them may take (+Inf: no cap).
	weight, cap float64
}

// Flow describes how a transfer shares its links: Weight identical flows
// move in step (each carrying the transfer's bytes), so on every link the
// transfer takes Weight times its per-flow rate; MaxRate caps the per-flow
// rate (a sender's own port, a transport's window over the round trip).
// The zero value is one flow with no cap.
type Flow struct {
	Weight  float64
	MaxRate float64
}

// Rate is the transfer's current rate in bytes per second.
func (t *Transfer) Rate() float64 { return t.rate }

// Finished reports whether the transfer has completed.
func (t *Transfer) Finished() bool { return t.finished }

// Network holds links and the transfers active on them, and shares each
// link's capacity max-min fairly among them.
type Network struct {
	e       *Engine
	links   []*Link
	active  []*Transfer
	last    float64 // time progress was last accounted
	version uint64  // invalidates stale completion events

	// scratch for the rate computation
	caps     []float64
	paths    [][]int
	weights  []float64
	flowCaps []float64
	rates    []float64
	mm       maxMin
}

// NewNetwork returns an empty network driven by e.
func NewNetwork(e *Engine) *Network { return &Network{e: e} }

// Engine is the engine the network runs on.
func (n *Network) Engine() *Engine { return n.e }

// NewLink adds a link with the given capacity in bytes per second. A
// capacity that is not positive and finite makes the link unlimited.
func (n *Network) NewLink(name string, capacity float64) *Link {
	if !(capacity > 0) || math.IsInf(capacity, 1) {
		capacity = math.Inf(1)
	}
	l := &Link{name: name, capacity: capacity, id: len(n.links)}
	n.links = append(n.links, l)
	return l
}

// Start begins moving bytes over path and calls done (if not nil) when
// the last byte has crossed. A transfer with no bytes, or over no limited
// link, completes at the current time (through an event, never inside
// Start). Links must belong to this network.
func (n *Network) Start(bytes float64, path []*Link, done func()) *Transfer {
	return n.StartFlow(bytes, path, Flow{}, done)
}

// StartFlow is Start for f.Weight identical flows of bytes each (a weight
// that is not positive counts as 1), each at most f.MaxRate bytes per
// second (not positive or +Inf: no cap). Progressive filling then shares
// every link by weight: the per-flow rates are max-min fair among all the
// flows the transfers stand for. A transfer over no limited link with a
// cap takes bytes/MaxRate.
func (n *Network) StartFlow(bytes float64, path []*Link, f Flow, done func()) *Transfer {
	w, c := f.Weight, f.MaxRate
	if !(w > 0) || math.IsInf(w, 1) {
		w = 1
	}
	if !(c > 0) {
		c = math.Inf(1)
	}
	t := &Transfer{bytes: bytes, remaining: bytes, done: done, start: n.e.now, weight: w, cap: c}
	t.path = t.pathBuf[:0]
	for _, l := range path {
		if !math.IsInf(l.capacity, 1) {
			t.path = append(t.path, l.id)
		}
	}
	if !(bytes > 0) || (len(t.path) == 0 && math.IsInf(c, 1)) {
		t.remaining = 0
		t.rate = math.Inf(1)
		for _, l := range path {
			if bytes > 0 {
				l.carried += w * bytes
			}
		}
		n.e.Schedule(n.e.now, func() { n.complete(t) })
		return t
	}
	if len(t.path) == 0 {
		// Only its own cap limits it: nothing to share.
		t.remaining, t.rate = 0, c
		for _, l := range path {
			l.carried += w * bytes
		}
		n.e.Schedule(n.e.now+bytes/c, func() { n.complete(t) })
		return t
	}
	n.advance()
	n.active = append(n.active, t)
	n.reschedule()
	return t
}

// Active is the number of transfers in progress.
func (n *Network) Active() int { return len(n.active) }

func (n *Network) complete(t *Transfer) {
	t.finished = true
	if t.done != nil {
		t.done()
	}
}

// advance accounts for the bytes moved since the last rate change.
func (n *Network) advance() {
	dt := n.e.now - n.last
	n.last = n.e.now
	if dt <= 0 {
		return
	}
	for _, t := range n.active {
		moved := t.rate * dt
		if moved > t.remaining {
			moved = t.remaining
		}
		t.remaining -= moved
		for _, id := range t.path {
			n.links[id].carried += moved * t.weight
		}
	}
}

// reschedule recomputes the max-min fair rates and schedules the next
// completion.
func (n *Network) reschedule() {
	n.version++
	if len(n.active) == 0 {
		return
	}
	if cap(n.caps) < len(n.links) {
		n.caps = make([]float64, len(n.links))
	}
	n.caps = n.caps[:len(n.links)]
	for i, l := range n.links {
		n.caps[i] = l.capacity
	}
	n.paths = n.paths[:0]
	n.weights = n.weights[:0]
	n.flowCaps = n.flowCaps[:0]
	for _, t := range n.active {
		n.paths = append(n.paths, t.path)
		n.weights = append(n.weights, t.weight)
		n.flowCaps = append(n.flowCaps, t.cap)
	}
	n.rates = n.mm.weighted(n.caps, n.paths, n.weights, n.flowCaps, n.rates)
	next := math.Inf(1)
	for i, t := range n.active {
		t.rate = n.rates[i]
		if d := t.remaining / t.rate; d < next {
			next = d
		}
	}
	n.e.ScheduleHandler(n.e.now+next, (*networkTimer)(n), int(n.version))
}

// networkTimer is a Network's completion event: its argument is the
// version of the rates it was predicted with (onTimer).
type networkTimer Network

// Handle runs the completion event of version v.
func (t *networkTimer) Handle(v int) { (*Network)(t).onTimer(uint64(v)) }

func (n *Network) onTimer(v uint64) {
	if v != n.version {
		return // rates changed since this completion was predicted
	}
	n.advance()
	var done []*Transfer
	kept := n.active[:0]
	for _, t := range n.active {
		// A transfer whose remaining bytes would take less than a
		// nanosecond-scale sliver of time is complete; this absorbs
		// floating-point residue.
		if t.remaining <= 1e-9*t.bytes || t.remaining/t.rate <= 1e-12*math.Max(1, n.e.now) {
			t.remaining = 0
			done = append(done, t)
			continue
		}
		kept = append(kept, t)
	}
	for i := len(kept); i < len(n.active); i++ {
		n.active[i] = nil
	}
	n.active = kept
	n.reschedule()
	for _, t := range done {
		n.complete(t)
	}
}

// MaxMinRates returns the max-min fair rate of each flow, where flow i
// crosses the links listed in paths[i] (indices into capacities, in bytes
// per second or any unit). It uses progressive filling: all flows not yet
// limited grow at the same pace until a link fills, and the flows on a
// full link keep the rate they have reached. A flow with no link gets
// +Inf.
func MaxMinRates(capacities []float64, paths [][]int) []float64 {
	var m maxMin
	return m.weighted(capacities, paths, nil, nil, nil)
}

// WeightedMaxMinRates is MaxMinRates where flow i stands for weights[i]
// identical flows (nil: one each), each capped at caps[i] (nil or +Inf:
// no cap): it returns the per-flow rate of each, which grows with the
// others' until a link is full (a link carries weight times rate of each
// flow on it) or the flow reaches its cap. A flow with no link gets its
// cap.
func WeightedMaxMinRates(capacities []float64, paths [][]int, weights, caps []float64) []float64 {
	var m maxMin
	return m.weighted(capacities, paths, weights, caps, nil)
}

// maxMin holds scratch space for progressive filling.
type maxMin struct {
	left   []float64
	count  []float64
	frozen []bool
}

func (m *maxMin) weighted(capacities []float64, paths [][]int, weights, caps []float64, out []float64) []float64 {
	nl, nf := len(capacities), len(paths)
	out = append(out[:0], make([]float64, nf)...)
	m.left = append(m.left[:0], capacities...)
	m.count = append(m.count[:0], make([]float64, nl)...)
	m.frozen = append(m.frozen[:0], make([]bool, nf)...)
	weight := func(i int) float64 {
		if weights == nil {
			return 1
		}
		return weights[i]
	}
	capOf := func(i int) float64 {
		if caps == nil {
			return math.Inf(1)
		}
		return caps[i]
	}
	unfrozen := 0
	for i, p := range paths {
		if len(p) == 0 {
			out[i] = capOf(i)
			m.frozen[i] = true
			continue
		}
		unfrozen++
		for _, l := range p {
			m.count[l] += weight(i)
		}
	}
	level := 0.0
	for unfrozen > 0 {
		inc := math.Inf(1)
		for l := 0; l < nl; l++ {
			if m.count[l] > 0 {
				if s := m.left[l] / m.count[l]; s < inc {
					inc = s
				}
			}
		}
		if caps != nil {
			for i := range paths {
				if !m.frozen[i] {
					inc = math.Min(inc, caps[i]-level)
				}
			}
		}
		if math.IsInf(inc, 1) {
			// Only unlimited links remain.
			for i := range paths {
				if !m.frozen[i] {
					out[i] = math.Inf(1)
					m.frozen[i] = true
				}
			}
			break
		}
		level += inc
		for l := 0; l < nl; l++ {
			if m.count[l] > 0 {
				m.left[l] -= inc * m.count[l]
			}
		}
		// Freeze the flows on every link that is now full, and those at
		// their cap.
		for i, p := range paths {
			if m.frozen[i] {
				continue
			}
			full := level >= capOf(i)*(1-1e-12)
			for _, l := range p {
				if full {
					break
				}
				if m.left[l] <= 1e-12*capacities[l] {
					full = true
				}
			}
			if !full {
				continue
			}
			m.frozen[i] = true
			out[i] = level
			unfrozen--
			for _, l := range p {
				m.count[l] -= weight(i)
				if m.count[l] < 1e-12 {
					m.count[l] = 0
				}
			}
		}
	}
	return out
}
