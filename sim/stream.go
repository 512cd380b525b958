package sim

// Stream is a serial FIFO executor bound to an engine: a GPU compute stream
// or a communication stream. A job starts when every job submitted before
// it has finished. The zero value is not usable; call Engine.NewStream.
type Stream struct {
	e     *Engine
	name  string
	busy  bool
	queue []job
	head  int
	// busyTime is the total time jobs have occupied the stream.
	busyTime  float64
	startedAt float64
}

// job is either a fixed duration followed by done, or a start function
// that calls finish itself when the work completes.
type job struct {
	d     float64
	done  func()
	start func(finish func())
}

// NewStream returns an idle stream named name.
func (e *Engine) NewStream(name string) *Stream { return &Stream{e: e, name: name} }

// Name is the stream's name.
func (s *Stream) Name() string { return s.name }

// BusyTime is the total virtual time the stream has spent running jobs
// that have finished.
func (s *Stream) BusyTime() float64 { return s.busyTime }

// Idle reports whether the stream runs no job and has none queued.
func (s *Stream) Idle() bool { return !s.busy && s.head == len(s.queue) }

// Submit queues a job that occupies the stream for d seconds (negative
// counts as zero); done, if not nil, runs when it finishes.
func (s *Stream) Submit(d float64, done func()) {
	if !(d > 0) {
		d = 0
	}
	s.enqueue(job{d: d, done: done})
}

// Do queues a job of unknown length: start runs when the job reaches the
// head of the stream, and the stream stays busy until start's finish
// argument is called (exactly once). Use it for a transfer whose time
// depends on contention.
func (s *Stream) Do(start func(finish func())) {
	s.enqueue(job{start: start})
}

func (s *Stream) enqueue(j job) {
	s.queue = append(s.queue, j)
	if !s.busy {
		s.next()
	}
}

func (s *Stream) next() {
	if s.head == len(s.queue) {
		s.queue, s.head = s.queue[:0], 0
		return
	}
	j := s.queue[s.head]
	s.queue[s.head] = job{}
	s.head++
	s.busy = true
	s.startedAt = s.e.now
	if j.start != nil {
		called := false
		j.start(func() {
			if called {
				return
			}
			called = true
			s.finish(nil)
		})
		return
	}
	s.e.After(j.d, func() { s.finish(j.done) })
}

func (s *Stream) finish(done func()) {
	s.busy = false
	s.busyTime += s.e.now - s.startedAt
	if done != nil {
		done()
	}
	if !s.busy {
		s.next()
	}
}
