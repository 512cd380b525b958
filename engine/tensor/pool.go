package tensor

import (
	"runtime"
	"sync/atomic"
)

// Pool runs a task in two parts at once: part 0 on the calling goroutine
// and part 1 on one persistent worker goroutine, which spins on the next
// task for a while after each one and then sleeps. Starting a goroutine
// per product costs microseconds, as much as the small products of a
// decode step themselves; handing the task to a spinning worker costs a
// cache-line transfer (an empty fork-join took 52-76 ns per Run here,
// BenchmarkPoolRunBatch). Part 1 goes to whichever side claims it
// first: a caller that finishes part 0 before the worker has taken part
// 1 runs it itself, so that a worker the operating system has
// descheduled (the machine is shared) costs the task its split rather
// than a scheduler time slice. One caller at a time may use a Pool. The worker
// is an ordinary goroutine, not locked to an OS thread: with the lock,
// and a worker that slept between a generation's passes, a chain:2
// generation splitting only its verify passes took 62 ms instead of 12
// on one core (waking a locked thread
// hands the goroutine between threads); Engage keeps it spinning for a
// whole generation.
type Pool struct {
	seq      atomic.Uint64 // tasks posted
	claimed  atomic.Uint64 // the last task whose part 1 someone claimed
	done     atomic.Uint64 // the last task whose part 1 the worker finished
	sleeping atomic.Bool
	task     func(part int)
	job      packedJob // the product runPacked splits
	jobTask  func(part int)
	wake     chan struct{}
	stop     atomic.Bool
	engaged  atomic.Int32 // Engage calls not yet released
}

// spinLimit is how many polls the worker spins before it sleeps (tens of
// microseconds): a generation posts a task every few microseconds, so the
// worker sleeps only between generations.
const spinLimit = 20000

// NewPool starts the worker.
func NewPool() *Pool {
	p := &Pool{wake: make(chan struct{}, 1)}
	p.jobTask = p.job.run
	go p.work()
	return p
}

// Close stops the worker after its current task.
func (p *Pool) Close() {
	p.stop.Store(true)
	p.seq.Add(1)
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

func (p *Pool) work() {
	var last uint64
	for {
		for i := 0; p.seq.Load() == last; i++ {
			if i < spinLimit || p.engaged.Load() > 0 {
				continue
			}
			p.sleeping.Store(true)
			if p.seq.Load() == last {
				<-p.wake
			}
			p.sleeping.Store(false)
			i = 0
		}
		last = p.seq.Load()
		if p.stop.Load() {
			return
		}
		// The task is posted before seq counts it, so claiming task last
		// makes its function visible here.
		if p.claimed.CompareAndSwap(last-1, last) {
			p.task(1)
			p.done.Store(last)
		}
	}
}

// Engage keeps the worker spinning, never sleeping, until the matching
// Release: a generation that splits only some of its passes (the verify
// passes) leaves gaps of tens of microseconds between them, longer than
// the spin limit, and waking a sleeping worker through the scheduler took
// milliseconds here (a chain:2 generation with verify-only splitting took
// 62 ms instead of 12 with a sleeping worker).
func (p *Pool) Engage() {
	p.engaged.Add(1)
	if p.sleeping.Load() {
		select {
		case p.wake <- struct{}{}:
		default:
		}
	}
}

// Release ends an Engage.
func (p *Pool) Release() { p.engaged.Add(-1) }

// Run calls f(0) and f(1) at once and returns when both have returned.
func (p *Pool) Run(f func(part int)) {
	p.task = f
	s := p.seq.Add(1)
	if p.sleeping.Load() {
		select {
		case p.wake <- struct{}{}:
		default:
		}
	}
	f(0)
	if p.claimed.CompareAndSwap(s-1, s) {
		f(1) // the worker has not taken it: run it here
		return
	}
	for i := 0; p.done.Load() != s; i++ {
		if i&1023 == 1023 {
			runtime.Gosched()
		}
	}
}

// packedJob is one packed product (float32 w or bfloat16 bw, then the
// residual add where set) split at a 16-column panel boundary near the
// middle: part 0 computes the columns below half, part 1 the rest. It
// lives in the Pool, so that a split allocates nothing.
type packedJob struct {
	z         bool
	c, a, add []float32
	act       []float32 // the SwiGLU output of a GLURows product (MatMulPackedGLU)
	w         *Packed
	bw        *PackedBF16
	m         int
}

func (j *packedJob) run(part int) {
	n := 0
	if j.bw != nil {
		n = j.bw.N
	} else {
		n = j.w.N
	}
	unit := 16 // a GLU product splits between whole groups of units
	if j.act != nil {
		unit = 2 * GLUGroup
	}
	lo, hi := 0, unit*(n/unit/2)
	if part == 1 {
		lo, hi = hi, n
	}
	if j.bw != nil {
		bf16Range(j.z, j.c, j.a, j.bw, j.m, lo, hi)
	} else {
		packedRange(j.z, j.c, j.a, j.w, j.m, lo, hi)
	}
	addCols(true, j.c, j.add, j.m, n, lo, hi)
	if j.act != nil {
		gluCols(Kernel{SIMD: true}, j.act, j.c, j.m, n, lo, hi)
	}
}

// run computes the product j on both cores, without allocating.
func (p *Pool) run(j packedJob) {
	p.job = j
	p.Run(p.jobTask)
	p.job = packedJob{}
}
