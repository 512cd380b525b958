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
// cache-line transfer. One caller at a time may use a Pool.
type Pool struct {
	seq      atomic.Uint64 // tasks posted
	done     atomic.Uint64 // tasks the worker finished
	sleeping atomic.Bool
	task     func(part int)
	wake     chan struct{}
	stop     atomic.Bool
}

// spinLimit is how many polls the worker spins before it sleeps (tens of
// microseconds): a generation posts a task every few microseconds, so the
// worker sleeps only between generations.
const spinLimit = 20000

// NewPool starts the worker.
func NewPool() *Pool {
	p := &Pool{wake: make(chan struct{}, 1)}
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
	runtime.LockOSThread()
	var last uint64
	for {
		for i := 0; p.seq.Load() == last; i++ {
			if i < spinLimit {
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
		p.task(1)
		p.done.Store(last)
	}
}

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
	for i := 0; p.done.Load() != s; i++ {
		if i&1023 == 1023 {
			runtime.Gosched()
		}
	}
}
