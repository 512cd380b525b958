package sim

// Handler receives events scheduled with Engine.ScheduleHandler. Using a
// Handler instead of a closure lets hot loops schedule events without
// allocating.
type Handler interface {
	// Handle runs the event; arg is the value given when it was scheduled.
	Handle(arg int)
}

// payload is what an event runs: either fn or h is set.
type payload struct {
	fn  func()
	h   Handler
	arg int
}

// item is one heap entry; it holds no pointers, so moving items costs no
// write barriers. The payload lives in Engine.slab at index id.
type item struct {
	at  float64
	seq uint64
	id  int
}

// Engine is a discrete-event simulator with a virtual clock. The zero value
// is not ready for use; call New.
type Engine struct {
	now   float64
	seq   uint64
	q     []item    // binary min-heap ordered by (at, seq)
	slab  []payload // payloads, indexed by item.id
	free  []int     // free slab slots
	steps uint64
}

// New returns an engine whose clock reads zero.
func New() *Engine { return &Engine{} }

// Now is the current virtual time in seconds.
func (e *Engine) Now() float64 { return e.now }

// Steps is the number of events run so far.
func (e *Engine) Steps() uint64 { return e.steps }

// Pending is the number of events waiting in the queue.
func (e *Engine) Pending() int { return len(e.q) }

// Schedule arranges for fn to run at virtual time at. Times in the past
// (and NaN) are moved to the present: events never run before Now. Events
// at equal times run in the order they were scheduled.
func (e *Engine) Schedule(at float64, fn func()) {
	e.push(e.clamp(at), payload{fn: fn})
}

// After arranges for fn to run d seconds from now (d < 0 counts as 0).
func (e *Engine) After(d float64, fn func()) { e.Schedule(e.now+d, fn) }

// ScheduleHandler arranges for h.Handle(arg) to run at virtual time at,
// with the same ordering rules as Schedule.
func (e *Engine) ScheduleHandler(at float64, h Handler, arg int) {
	e.push(e.clamp(at), payload{h: h, arg: arg})
}

func (e *Engine) clamp(at float64) float64 {
	if !(at >= e.now) { // also catches NaN
		return e.now
	}
	return at
}

// Step runs the earliest pending event and reports whether there was one.
func (e *Engine) Step() bool {
	if len(e.q) == 0 {
		return false
	}
	it := e.pop()
	ev := e.slab[it.id]
	e.slab[it.id] = payload{}
	e.free = append(e.free, it.id)
	e.now = it.at
	e.steps++
	if ev.fn != nil {
		ev.fn()
	} else {
		ev.h.Handle(ev.arg)
	}
	return true
}

// Run runs events until the queue is empty.
func (e *Engine) Run() {
	for e.Step() {
	}
}

// RunUntil runs the events due at or before t, then sets the clock to t if
// it is later than the last event run.
func (e *Engine) RunUntil(t float64) {
	for len(e.q) > 0 && e.q[0].at <= t {
		e.Step()
	}
	if t > e.now {
		e.now = t
	}
}

func less(a, b *item) bool {
	if a.at != b.at {
		return a.at < b.at
	}
	return a.seq < b.seq
}

// push and pop implement the binary heap directly on the typed slice: the
// ordering is that of container/heap, without boxing each event.
func (e *Engine) push(at float64, p payload) {
	var id int
	if n := len(e.free); n > 0 {
		id = e.free[n-1]
		e.free = e.free[:n-1]
		e.slab[id] = p
	} else {
		id = len(e.slab)
		e.slab = append(e.slab, p)
	}
	e.q = append(e.q, item{at: at, seq: e.seq, id: id})
	e.seq++
	i := len(e.q) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !less(&e.q[i], &e.q[p]) {
			break
		}
		e.q[i], e.q[p] = e.q[p], e.q[i]
		i = p
	}
}

func (e *Engine) pop() item {
	top := e.q[0]
	n := len(e.q) - 1
	e.q[0] = e.q[n]
	e.q = e.q[:n]
	i := 0
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		c := l
		if r := l + 1; r < n && less(&e.q[r], &e.q[l]) {
			c = r
		}
		if !less(&e.q[c], &e.q[i]) {
			break
		}
		e.q[i], e.q[c] = e.q[c], e.q[i]
		i = c
	}
	return top
}
