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
	done      func()
	start     float64
	finished  bool
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
	caps  []float64
	paths [][]int
	rates []float64
	mm    maxMin
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
	t := &Transfer{bytes: bytes, remaining: bytes, done: done, start: n.e.now}
	for _, l := range path {
		if !math.IsInf(l.capacity, 1) {
			t.path = append(t.path, l.id)
		}
	}
	if !(bytes > 0) || len(t.path) == 0 {
		t.remaining = 0
		t.rate = math.Inf(1)
		for _, l := range path {
			if bytes > 0 {
				l.carried += bytes
			}
		}
		n.e.Schedule(n.e.now, func() { n.complete(t) })
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
			n.links[id].carried += moved
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
	for _, t := range n.active {
		n.paths = append(n.paths, t.path)
	}
	n.rates = n.mm.rates(n.caps, n.paths, n.rates)
	next := math.Inf(1)
	for i, t := range n.active {
		t.rate = n.rates[i]
		if d := t.remaining / t.rate; d < next {
			next = d
		}
	}
	v := n.version
	n.e.Schedule(n.e.now+next, func() { n.onTimer(v) })
}

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
	return m.rates(capacities, paths, nil)
}

// maxMin holds scratch space for progressive filling.
type maxMin struct {
	left   []float64
	count  []int
	frozen []bool
}

func (m *maxMin) rates(capacities []float64, paths [][]int, out []float64) []float64 {
	nl, nf := len(capacities), len(paths)
	out = append(out[:0], make([]float64, nf)...)
	m.left = append(m.left[:0], capacities...)
	m.count = append(m.count[:0], make([]int, nl)...)
	m.frozen = append(m.frozen[:0], make([]bool, nf)...)
	unfrozen := 0
	for i, p := range paths {
		if len(p) == 0 {
			out[i] = math.Inf(1)
			m.frozen[i] = true
			continue
		}
		unfrozen++
		for _, l := range p {
			m.count[l]++
		}
	}
	level := 0.0
	for unfrozen > 0 {
		inc := math.Inf(1)
		for l := 0; l < nl; l++ {
			if m.count[l] > 0 {
				if s := m.left[l] / float64(m.count[l]); s < inc {
					inc = s
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
				m.left[l] -= inc * float64(m.count[l])
			}
		}
		// Freeze the flows on every link that is now full.
		for i, p := range paths {
			if m.frozen[i] {
				continue
			}
			full := false
			for _, l := range p {
				if m.left[l] <= 1e-12*capacities[l] {
					full = true
					break
				}
			}
			if !full {
				continue
			}
			m.frozen[i] = true
			out[i] = level
			unfrozen--
			for _, l := range p {
				m.count[l]--
			}
		}
	}
	return out
}
