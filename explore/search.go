package explore

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/scaleacross/scaleacross/fault"
	"github.com/scaleacross/scaleacross/internal/cputime"
	"github.com/scaleacross/scaleacross/train"
)

// Record is one evaluated candidate that fits in memory, with its
// analytic prediction.
type Record struct {
	// Index numbers the candidate in its space's enumeration order.
	Index int `json:"index"`
	Candidate
	StepTimeS float64 `json:"step_time_s"`
	MFU       float64 `json:"mfu"`
	MemoryGiB float64 `json:"memory_gib"`
}

// Shard selects the deterministic slice of a space that one worker of a
// large sweep evaluates: candidate i belongs to shard Index when
// i mod Count = Index. The zero value means "everything".
type Shard struct {
	Index int `json:"index"`
	Count int `json:"count"`
}

// ParseShard reads "i/n" (0 <= i < n).
func ParseShard(s string) (Shard, error) {
	var sh Shard
	if _, err := fmt.Sscanf(s, "%d/%d", &sh.Index, &sh.Count); err != nil || sh.Count < 1 || sh.Index < 0 || sh.Index >= sh.Count || fmt.Sprintf("%d/%d", sh.Index, sh.Count) != s {
		return Shard{}, fault.Field("--shard", "want i/n with 0 <= i < n (e.g. 0/4), got %q", clip(s))
	}
	return sh, nil
}

// Whole reports whether the shard is the whole space.
func (s Shard) Whole() bool { return s.Count <= 1 }

func (s Shard) holds(i int) bool { return s.Count <= 1 || i%s.Count == s.Index }

// count is the number of candidates numbered lo to hi-1 that s holds.
func (s Shard) count(lo, hi int) int {
	if hi <= lo {
		return 0
	}
	if s.Count <= 1 {
		return hi - lo
	}
	// below(x) counts the held numbers under x.
	below := func(x int) int {
		if x <= s.Index {
			return 0
		}
		return (x-s.Index-1)/s.Count + 1
	}
	return below(hi) - below(lo)
}

// State is the progress of the search of one space: everything numbered
// below Next (and in the shard) has been evaluated.
type State struct {
	Space string `json:"space"`
	Next  int    `json:"next"`
	Done  bool   `json:"done"`
	// Evaluated counts the candidates decided: their memory checked and,
	// when they fit, their step time predicted or, for the Pruned ones,
	// bounded out. It does not depend on pruning.
	Evaluated int `json:"evaluated"`
	// MinMemoryGiB is the least memory per GPU among candidates that do
	// not fit (0 when all fit), for the no-fit message.
	MinMemoryGiB float64 `json:"min_memory_gib"`
	// Feasible counts the candidates that fit, whether or not Records
	// keeps them (the Pruned ones included: they fit).
	Feasible int `json:"feasible,omitempty"`
	// Pruned counts the candidates that fit whose step time was not
	// predicted because a lower bound on it proved that the search would
	// not keep them (prune.go). How many depends on what had been kept
	// when their batch started, so on the batch size, the shard and a
	// resume (the study store does not keep it: a resumed search counts
	// from the resume); what the search keeps does not.
	Pruned int `json:"pruned,omitempty"`
	// Candidates is the size of the whole space (all shards), known once
	// the enumeration has run to its end.
	Candidates int `json:"candidates"`
	// ElapsedS is the wall-clock time spent on this space so far.
	ElapsedS float64 `json:"elapsed_s"`
	// Records holds the kept candidates that fit, in index order: all of
	// them, or (Options.Keep) the fastest few and the Pareto front of step
	// time and memory headroom, which is all that Finish reads.
	Records []Record `json:"-"`
}

// Sink receives the search's progress after every batch, on a goroutine
// of its own, in batch order. Commit must store the state (whose Records
// are not set), add the records newly kept and delete the kept records
// numbered in drop, atomically, so that an interrupted search can resume
// from the last commit. What is stored after each commit is a superset of
// what the search keeps and a subset of what it evaluated, which is
// enough for a resumed search to keep exactly the same records.
type Sink interface {
	Commit(st State, add []Record, drop []int) error
}

// Options tune a search. The zero value searches everything with the
// analytic model alone and default sizes.
type Options struct {
	// Technologies are the transports the network package models; nil
	// means only the default transport.
	Technologies []string
	// TopK is how many of the analytically best candidates of each space
	// are re-ranked; 0 means DefaultTopK, negative means none.
	TopK int
	// Rerank prices a re-ranked candidate; nil means train.Analytic.
	Rerank func(*train.Config) (train.Result, error)
	// RerankEngine names Rerank's engine for the output ("event").
	RerankEngine string
	// Shard restricts the search to a slice of every space.
	Shard Shard
	// Workers evaluate candidates in parallel; 0 means GOMAXPROCS.
	Workers int
	// BatchSize is the number of candidates between commits; 0 means 4096.
	BatchSize int
	// Keep is how many of the fastest candidates of each space the search
	// keeps, with the Pareto front of step time and memory headroom; 0
	// means DefaultKeep, negative means every candidate that fits. It is
	// raised to what the re-ranking and the listed top need.
	Keep int
	// Sink, when set, receives every batch.
	Sink Sink
	// Resume holds the states of an interrupted study, by space name.
	Resume map[string]*State
	// Progress, when set, is called after every batch with the number of
	// candidates evaluated in this run.
	Progress func(done int)
	// Exhaustive prices every candidate that fits: no candidate is pruned
	// by its lower bound (prune.go). The result is the same either way.
	Exhaustive bool
	// Now reads the wall clock for timings; nil means time.Now.
	Now func() time.Time
	// CPU reads the process's CPU time for Estimate; nil means the
	// operating system's count (cputime.Process).
	CPU func() time.Duration
}

// DefaultTopK is the number of candidates re-ranked per space by default.
const DefaultTopK = 8

func (o *Options) topK() int {
	switch {
	case o.TopK < 0:
		return 0
	case o.TopK == 0:
		return DefaultTopK
	}
	return o.TopK
}

// DefaultKeep is the number of fastest candidates kept per space by
// default.
const DefaultKeep = 2048

// keep is the number of fastest candidates kept per space, or -1 for all.
func (o *Options) keep() int {
	if o.Keep < 0 {
		return -1
	}
	n := o.Keep
	if n == 0 {
		n = DefaultKeep
	}
	return max(n, RerankLimitFactor*o.topK()+TopListed+1)
}

func (o *Options) now() time.Time {
	if o.Now != nil {
		return o.Now()
	}
	return time.Now()
}

func (o *Options) cpu() time.Duration {
	if o.CPU != nil {
		return o.CPU()
	}
	if d, ok := cputime.Process(); ok {
		return d
	}
	// Without a CPU clock the wall clock stands in: the difference of
	// two readings is the time between them, other processes' turns
	// included.
	return time.Duration(time.Now().UnixNano())
}

// Estimate is what a search has ahead of it.
type Estimate struct {
	// Candidates is the number of candidates left to evaluate.
	Candidates int
	// Seconds is the expected wall-clock time of their evaluation when
	// each worker has a core to itself.
	Seconds float64
}

// estimateEvery is the sampling interval of Estimate.
const estimateEvery = 1024

// Estimate counts the candidates of spaces that a search with opt has
// left to evaluate (for a progress bar) and times the pricing of a sample
// spread over them, about one in 1,024, to say how long the search will
// take on opt's workers: the process CPU time the sample took, per
// candidate, times the candidates, divided by the workers. CPU time does
// not count other processes' turns on the cores, so the figure does not
// grow with the machine's load (a loaded machine's wall time does); it
// varies a little with the processor, and the count not at all. It does
// not count the candidates pruning will skip, which it cannot know.
func (b *Base) Estimate(spaces []*Space, opt *Options) Estimate {
	var e Estimate
	var sample []job
	e.Candidates, sample = b.estimateSample(spaces, opt)
	if len(sample) == 0 {
		return e
	}
	workers := opt.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	var cfg candidateCfg
	var ev train.Evaluator
	t0 := opt.cpu()
	for _, j := range sample {
		b.evaluatePrepared(&cfg, &ev, &j)
	}
	per := (opt.cpu() - t0).Seconds() / float64(len(sample))
	e.Seconds = per * float64(e.Candidates) / float64(workers)
	return e
}

// estimateSample counts the candidates of spaces that a search with opt
// has left to evaluate and prepares every estimateEvery-th of them,
// counting whole runs at once where none of a run is sampled.
func (b *Base) estimateSample(spaces []*Space, opt *Options) (int, []job) {
	n := 0
	var sample []job
	for _, s := range spaces {
		from := 0
		if st := opt.Resume[s.Name]; st != nil {
			if st.Done {
				continue
			}
			from = st.Next
		}
		p := newPricer(b)
		s.enumerateRuns(b, func(r *run) bool {
			k := opt.Shard.count(max(r.first, from), r.first+r.Len())
			if k == 0 {
				return true
			}
			if next := (n + estimateEvery - 1) / estimateEvery * estimateEvery; next >= n+k {
				n += k // none of the run is sampled
				return true
			}
			r.each(func(i int, c Candidate, sh *shape) bool {
				if i >= from && opt.Shard.holds(i) {
					if n%estimateEvery == 0 {
						j, _ := p.job(i, c, sh)
						pr := *j.pr // the pricer reuses its own for later shapes
						j.pr = &pr
						sample = append(sample, j)
					}
					n++
				}
				return true
			})
			return true
		})
	}
	return n, sample
}

// Search evaluates every space in order, continuing the states in
// opt.Resume. It stops between batches when ctx is cancelled, after
// handing everything evaluated so far to the sink, and returns ctx's
// error with the states reached.
func (b *Base) Search(ctx context.Context, spaces []*Space, opt *Options) ([]*State, error) {
	var out []*State
	done := 0
	var w *writer
	if opt.Sink != nil {
		w = startWriter(opt.Sink)
	}
	var err error
	for _, s := range spaces {
		st := &State{Space: s.Name}
		if r := opt.Resume[s.Name]; r != nil {
			c := *r
			c.Records = slices.Clone(r.Records)
			st = &c
		}
		out = append(out, st)
		if st.Done {
			continue
		}
		if err = b.searchSpace(ctx, s, st, opt, w, &done); err != nil {
			break
		}
	}
	if w != nil {
		if werr := w.close(); werr != nil {
			return out, werr
		}
	}
	return out, err
}

// job is a candidate prepared for pricing (pricer.job); in a batch, the
// search only sets i, c and sh and the workers prepare the rest.
type job struct {
	i  int
	c  Candidate
	sh *shape
	// run is one more than the number of the first candidate of c's run
	// (run.first), set by the search; 0 when unknown. The candidates of a
	// space's runs with one recompute policy are those of one memory
	// check (pricer.prepareJob).
	run int
	pr  *prepared
	// mem and fits are the candidate's memory check, set with pr (by
	// pricer.job) when pr.ok.
	mem  float64
	fits bool
}

type outcome struct {
	// stepS and mfu are the predicted step of a candidate that fits.
	stepS, mfu float64
	// mem is the memory per GPU: the predicted one of a candidate that
	// fits, the quick check's of a pruned one, the least that does not fit
	// otherwise.
	mem float64
	fit bool
	ok  bool
	// pruned marks a candidate that fits whose step was not predicted
	// (stepS is unset): its lower bound proved the keeper would not keep
	// it.
	pruned bool
}

// record is the record of candidate i, c whose outcome o fits.
func (o *outcome) record(i int, c *Candidate) Record {
	return Record{Index: i, Candidate: *c, StepTimeS: o.stepS, MFU: o.mfu, MemoryGiB: o.mem}
}

// inflight is a batch being priced by the workers.
type inflight struct {
	jobs []job
	out  []outcome
	// next is the state's Next once the batch is in; -1 marks the last
	// batch of the space, which also completes the state.
	next int
	// bar is what the keeper held when the batch was handed to the
	// workers: candidates it proves the keeper will not keep are pruned.
	bar bar
	wg  sync.WaitGroup // done when every chunk of the batch is priced
}

// batchesInFlight is how many batches the workers may have at once: while
// the oldest one's last chunks are priced the workers take chunks of the
// next, so no core waits at a batch boundary.
const batchesInFlight = 2

// searchSpace enumerates s into batches and hands each batch to the
// workers as soon as it is full; it takes the batches in (keeping their
// records, handing them to the writer) in order, the oldest once
// batchesInFlight are being priced, so that the workers always have the
// next batch's chunks to take while it enumerates. The state only ever
// reflects whole batches, in order.
func (b *Base) searchSpace(ctx context.Context, s *Space, st *State, opt *Options, w *writer, done *int) error {
	size := opt.BatchSize
	if size <= 0 {
		size = 4096
	}
	workers := opt.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	k := &keeper{n: opt.keep(), capacity: b.Template.GPU.UsableGiB()}
	// Each worker prepares its candidates (pricer) and prices them on its
	// own scratch, kept from batch to batch.
	ws := make([]*worker, workers)
	for w := range ws {
		ws[w] = &worker{p: newPricer(b)}
	}
	pl := startPool(b, ws, batchesInFlight*((size+evalChunk-1)/evalChunk))
	defer pl.stop()
	k.add(st.Records)
	defer func() { st.Records = k.records() }()
	start := opt.now()
	from := st.Next
	// One batch more than may be in flight: the one being filled.
	var free []*inflight
	for range batchesInFlight + 1 {
		free = append(free, &inflight{jobs: make([]job, 0, size), out: make([]outcome, size)})
	}
	cur := free[len(free)-1]
	free = free[:len(free)-1]
	var fifo []*inflight // handed to the workers, not taken in, oldest first
	var fits []Record
	var err error
	// takeIn adds a priced batch to the state and commits it; it reports
	// false when the search must stop.
	takeIn := func(f *inflight, total int) bool {
		fits = fits[:0]
		// Only the records the keeper may keep are built: it drops the
		// others unseen (keeper.add).
		thr := k.threshold()
		for k := range f.jobs {
			o := &f.out[k]
			if !o.ok {
				continue
			}
			st.Evaluated++
			if o.pruned {
				st.Feasible++
				st.Pruned++
			} else if o.fit {
				st.Feasible++
				if j := &f.jobs[k]; thr.admits(o.stepS, j.i, o.mem) {
					fits = append(fits, o.record(j.i, &j.c))
				}
			} else if st.MinMemoryGiB == 0 || o.mem < st.MinMemoryGiB {
				st.MinMemoryGiB = o.mem
			}
		}
		add, drop := k.add(fits)
		if f.next < 0 {
			st.Next = max(st.Next, lastIndex(f.jobs)+1)
			st.Done = true
			st.Candidates = total
		} else {
			st.Next = f.next
		}
		*done += len(f.jobs)
		now := opt.now()
		st.ElapsedS += now.Sub(start).Seconds()
		start = now
		if w != nil {
			c := *st
			c.Records = nil
			if !w.send(commit{st: c, add: add, drop: drop}) {
				// Search returns the sink's own error.
				err = errors.New("the study store failed")
				return false
			}
		}
		if opt.Progress != nil {
			opt.Progress(*done)
		}
		if e := ctx.Err(); e != nil {
			err = e
			return false
		}
		return true
	}
	// takeOldest waits for the oldest batch in flight and takes it in.
	takeOldest := func(total int) bool {
		f := fifo[0]
		f.wg.Wait()
		fifo = fifo[1:]
		free = append(free, f)
		return takeIn(f, total)
	}
	// abandon waits for the batches still in flight, which the state
	// leaves out: it stays at the last batch taken in.
	abandon := func() {
		for _, f := range fifo {
			f.wg.Wait()
		}
		fifo = nil
	}
	// launch hands the current batch to the workers and, once as many as
	// may be are in flight, takes in the oldest meanwhile.
	launch := func(next, total int) bool {
		cur.next = next
		// The bar is the keeper's after the batches taken in so far, which
		// depend only on the batch size and where the search started: the
		// workers' timing does not change what is pruned.
		cur.bar = bar{}
		if !opt.Exhaustive {
			cur.bar = k.bar()
		}
		pl.start(cur)
		fifo = append(fifo, cur)
		ok := len(fifo) < batchesInFlight || takeOldest(total)
		cur = free[len(free)-1]
		free = free[:len(free)-1]
		cur.jobs = cur.jobs[:0]
		if !ok {
			abandon()
		}
		return ok
	}
	stopped := false
	// The candidates are written into their batch slots as a run hands
	// them on (run.each, in place); the workers prepare the rest of the
	// slot (pricer.prepareJob).
	total := s.enumerateRuns(b, func(r *run) bool {
		if opt.Shard.count(max(r.first, from), r.first+r.Len()) == 0 {
			return true
		}
		i := r.first
		for _, rc := range r.rcs {
			for _, tech := range r.techs {
				for _, coll := range r.colls {
					if i >= from && opt.Shard.holds(i) {
						n := len(cur.jobs)
						cur.jobs = cur.jobs[:n+1]
						j := &cur.jobs[n]
						j.i, j.c, j.run = i, r.c, r.first+1
						j.c.Recompute, j.c.Technology, j.c.Collective = rc, tech, coll
						j.sh = r.shape.get(&j.c)
						if n+1 == size && !launch(i+1, 0) {
							stopped = true
							return false
						}
					}
					i++
				}
			}
		}
		return true
	})
	if stopped {
		return err
	}
	if launch(-1, total) {
		for len(fifo) > 0 {
			if !takeOldest(total) {
				abandon()
				break
			}
		}
	}
	return err
}

func lastIndex(b []job) int {
	if len(b) == 0 {
		return -1
	}
	return b[len(b)-1].i
}

// evalChunk is the number of candidates a worker takes at a time.
const evalChunk = 64

// worker is the state a search's worker keeps between batches.
type worker struct {
	p   *pricer
	cfg candidateCfg
	ev  train.Evaluator
}

// pool is a search's workers, each on its own goroutine, pricing chunks
// of evalChunk consecutive candidates of the batches handed to it, in the
// order handed; each result lands in its own slot, so the outcome does
// not depend on timing.
type pool struct {
	chunks chan chunk
}

// chunk is the candidates of f from lo on, up to evalChunk of them.
type chunk struct {
	f  *inflight
	lo int
}

// startPool starts a goroutine per worker; queue is how many chunks may
// wait for one.
func startPool(b *Base, ws []*worker, queue int) *pool {
	pl := &pool{chunks: make(chan chunk, queue)}
	for _, w := range ws {
		go func() {
			for c := range pl.chunks {
				n := len(c.f.jobs)
				var g group
				for k := c.lo; k < min(c.lo+evalChunk, n); k++ {
					j := &c.f.jobs[k]
					if !w.p.prepareJob(j) {
						g = group{}
					}
					if g.prunes(c.f.bar, j) {
						c.f.out[k] = outcome{ok: true, fit: true, pruned: true, mem: j.mem}
						continue
					}
					o, bound := b.evaluateBound(&w.cfg, &w.ev, j)
					g.priced(bound)
					c.f.out[k] = o
				}
				c.f.wg.Done()
				// Let a goroutine this one made runnable (the search's,
				// woken by the batch it waits for or by room in the
				// queue) run now: otherwise it waits for the scheduler
				// to preempt a worker (about 10 ms), while the workers
				// drain the queue, and then enumerates the next batch
				// with a core idle.
				runtime.Gosched()
			}
		}()
	}
	return pl
}

// start hands f's candidates to the workers; f.wg is done when all are
// priced.
func (pl *pool) start(f *inflight) {
	n := len(f.jobs)
	f.wg.Add((n + evalChunk - 1) / evalChunk)
	for lo := 0; lo < n; lo += evalChunk {
		pl.chunks <- chunk{f, lo}
	}
}

// stop ends the workers once the chunks handed to them are priced.
func (pl *pool) stop() { close(pl.chunks) }

// evaluate checks the candidate's memory, then predicts its step.
func (b *Base) evaluate(c Candidate) outcome {
	cfg := b.Config(c)
	mem, fits := b.fitsMemory(cfg)
	if !fits {
		return outcome{ok: true, mem: mem}
	}
	r, err := train.Analytic(cfg)
	return outcomeOf(&r, err)
}

// outcomeOf is the outcome of a candidate whose memory fits the quick
// check, priced as r.
func outcomeOf(r *train.Result, err error) outcome {
	if err != nil || !finite(r.StepTimeS) || r.StepTimeS <= 0 {
		return outcome{}
	}
	if !r.Feasible {
		return outcome{ok: true, mem: r.MemoryGiBPerGPU}
	}
	return outcome{ok: true, fit: true, stepS: r.StepTimeS, mfu: r.MFU, mem: r.MemoryGiBPerGPU}
}

// rank sorts records by step time, then by index.
func rank(recs []Record) { slices.SortFunc(recs, byRank) }

// MergeStates combines the states of one space from every shard of a
// sharded search into the state of an unsharded one.
func MergeStates(parts []*State) (*State, error) {
	if len(parts) == 0 {
		return nil, fmt.Errorf("no shards to merge")
	}
	out := &State{Space: parts[0].Space, Done: true}
	for _, p := range parts {
		if p.Space != out.Space {
			return nil, fmt.Errorf("merging space %s with %s", out.Space, p.Space)
		}
		if !p.Done {
			return nil, fmt.Errorf("a shard of space %s is unfinished; resume it first", p.Space)
		}
		out.Evaluated += p.Evaluated
		out.Feasible += p.Feasible
		out.Pruned += p.Pruned
		out.Candidates = max(out.Candidates, p.Candidates)
		out.Next = max(out.Next, p.Next)
		out.ElapsedS += p.ElapsedS
		if p.MinMemoryGiB > 0 && (out.MinMemoryGiB == 0 || p.MinMemoryGiB < out.MinMemoryGiB) {
			out.MinMemoryGiB = p.MinMemoryGiB
		}
		out.Records = append(out.Records, p.Records...)
	}
	slices.SortFunc(out.Records, func(a, b Record) int { return cmp.Compare(a.Index, b.Index) })
	for k := 1; k < len(out.Records); k++ {
		if out.Records[k].Index == out.Records[k-1].Index {
			return nil, fmt.Errorf("space %s: candidate %d appears in two shards", out.Space, out.Records[k].Index)
		}
	}
	return out, nil
}
