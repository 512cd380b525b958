package explore

import (
	"cmp"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// keeper holds the records of one space that the search keeps: the n
// fastest (by step time, then index) and the Pareto front of step time
// and memory headroom, exactly as Finish and pareto order them. Which
// records it keeps depends only on the set of records it has been given,
// not on their order or batching: the fastest n and the front of a set are
// also the fastest n and the front of any subset that contains them, so a
// resumed search, or the merge of shards, keeps the same records.
type keeper struct {
	// n is the number of fastest records kept; negative keeps all.
	n int
	// capacity is the usable memory per GPU; headroom is capacity minus a
	// record's memory, computed as pareto computes it.
	capacity float64
	// kept is ordered by step time, then index; its first n entries are
	// the fastest. Each names its record's slot in recs: the merge of a
	// batch moves these small entries, which hold no pointer, and copies
	// a record only once, into its slot, when it is first kept.
	kept []keptRef
	recs []Record
	// free holds the slots of recs whose records were dropped.
	free []int32
	// scratch, fresh and refs are reused between batches.
	scratch []keptEntry
	fresh   []Record
	refs    []keptRef
}

// keptRef is a kept record's rank keys and its slot in keeper.recs.
type keptRef struct {
	stepS, memGiB float64
	index         int
	slot          int32
}

// keptEntry is a record under consideration: a kept one (old, its slot
// in keeper.recs) or a fresh one (its position in keeper.fresh).
type keptEntry struct {
	ref keptRef
	old bool
}

func byRank(a, b Record) int {
	if c := cmp.Compare(a.StepTimeS, b.StepTimeS); c != 0 {
		return c
	}
	return cmp.Compare(a.Index, b.Index)
}

// rankRef is byRank on the rank keys of kept records.
func rankRef(a, b keptRef) int {
	if c := cmp.Compare(a.stepS, b.stepS); c != 0 {
		return c
	}
	return cmp.Compare(a.index, b.index)
}

// threshold is what a fresh record must beat to be kept (keeper.add): a
// record slower than the n-th fastest kept one (by step time, then
// index) is kept only if it has more headroom than every one of the n
// fastest. The zero value admits every record.
type threshold struct {
	full        bool
	stepS       float64
	index       int
	headroomGiB float64
	capacity    float64
}

// threshold returns the keeper's threshold for the records it is offered
// next.
func (k *keeper) threshold() threshold {
	if k.n <= 0 || len(k.kept) < k.n {
		return threshold{}
	}
	t := threshold{full: true, stepS: k.kept[k.n-1].stepS, index: k.kept[k.n-1].index, capacity: k.capacity,
		headroomGiB: k.capacity - k.kept[0].memGiB}
	for _, r := range k.kept[1:k.n] {
		t.headroomGiB = max(t.headroomGiB, k.capacity-r.memGiB)
	}
	return t
}

// admits reports whether a record with this step time, index and memory
// may be kept: those it refuses, add drops unseen.
func (t *threshold) admits(stepS float64, index int, memGiB float64) bool {
	if !t.full {
		return true
	}
	slower := stepS > t.stepS || (stepS == t.stepS && index > t.index)
	return !slower || t.capacity-memGiB > t.headroomGiB
}

// store copies r into a free slot of recs and returns its reference.
func (k *keeper) store(r *Record) keptRef {
	var slot int32
	if n := len(k.free); n > 0 {
		slot, k.free = k.free[n-1], k.free[:n-1]
		k.recs[slot] = *r
	} else {
		slot = int32(len(k.recs))
		k.recs = append(k.recs, *r)
	}
	return keptRef{stepS: r.StepTimeS, memGiB: r.MemoryGiB, index: r.Index, slot: slot}
}

// add offers the fresh records (none of which is kept yet) and returns
// those it keeps and the indices of the previously kept records it no
// longer keeps.
func (k *keeper) add(fresh []Record) (added []Record, dropped []int) {
	if len(fresh) == 0 {
		return nil, nil
	}
	if k.n < 0 {
		for i := range fresh {
			k.kept = append(k.kept, k.store(&fresh[i]))
		}
		return slices.Clone(fresh), nil
	}
	thr := k.threshold()
	news := k.fresh[:0]
	for _, r := range fresh {
		if !thr.admits(r.StepTimeS, r.Index, r.MemoryGiB) {
			continue
		}
		news = append(news, r)
	}
	k.fresh = news
	if len(news) == 0 {
		return nil, nil
	}
	// Merge the few fresh survivors, sorted (by reference: slot is their
	// position in news), into the kept records, which are sorted already.
	refs := k.refs[:0]
	for p := range news {
		r := &news[p]
		refs = append(refs, keptRef{stepS: r.StepTimeS, memGiB: r.MemoryGiB, index: r.Index, slot: int32(p)})
	}
	slices.SortFunc(refs, rankRef)
	k.refs = refs
	e := k.scratch[:0]
	a := 0
	for _, ref := range refs {
		for a < len(k.kept) && rankRef(k.kept[a], ref) < 0 {
			e = append(e, keptEntry{k.kept[a], true})
			a++
		}
		e = append(e, keptEntry{ref, false})
	}
	for ; a < len(k.kept); a++ {
		e = append(e, keptEntry{k.kept[a], true})
	}
	kept := k.kept[:0]
	bestH := 0.0
	for i, x := range e {
		h := k.capacity - x.ref.memGiB
		keep := i < k.n
		if i == 0 || h > bestH {
			bestH = h
			keep = true
		}
		switch {
		case keep && x.old:
			kept = append(kept, x.ref)
		case keep:
			r := &news[x.ref.slot]
			kept = append(kept, k.store(r))
			added = append(added, *r)
		case x.old:
			dropped = append(dropped, x.ref.index)
			k.recs[x.ref.slot] = Record{}
			k.free = append(k.free, x.ref.slot)
		}
	}
	k.kept = kept
	k.scratch = e
	slices.Sort(dropped)
	return added, dropped
}

// records returns a copy of the kept records in index order.
func (k *keeper) records() []Record {
	out := make([]Record, len(k.kept))
	for i, r := range k.kept {
		out[i] = k.recs[r.slot]
	}
	slices.SortFunc(out, func(a, b Record) int { return cmp.Compare(a.Index, b.Index) })
	return out
}

// commit is one batch's hand-over to the sink, or several consecutive
// batches of one space merged (merge).
type commit struct {
	st   State
	add  []Record
	drop []int
	// pos maps the index of each record in add to its position there,
	// built once a later batch drops records; a record of add that a
	// later batch dropped is marked with index -1.
	pos map[int]int
}

// merge folds n, the next batch of the same space, into c, so that one
// commit of c stores what committing c and then n would: n's state, the
// records either adds less those n drops, and the drops of records stored
// before c. A record c adds and n drops is neither added nor dropped.
func (c *commit) merge(n commit) {
	if len(n.drop) > 0 {
		if c.pos == nil {
			c.pos = make(map[int]int, len(c.add)+len(n.add))
			for k, r := range c.add {
				c.pos[r.Index] = k
			}
		}
		for _, i := range n.drop {
			if k, ok := c.pos[i]; ok {
				c.add[k].Index = -1
				delete(c.pos, i)
			} else {
				c.drop = append(c.drop, i)
			}
		}
	}
	for _, r := range n.add {
		if c.pos != nil {
			c.pos[r.Index] = len(c.add)
		}
		c.add = append(c.add, r)
	}
	c.st = n.st
}

// final is c as the sink takes it: the records it still adds, and its
// drops in index order.
func (c *commit) final() ([]Record, []int) {
	add := slices.DeleteFunc(c.add, func(r Record) bool { return r.Index < 0 })
	slices.Sort(c.drop) // merged drops come a batch at a time
	return add, c.drop
}

// writer commits batches to a sink on its own goroutine, in order, so
// that evaluation goes on while the sink stores. The search never waits
// for it: batches that arrive while the sink is busy, or less than
// commitEvery after its last commit, are merged per space into one commit
// (commit.merge), so what waits is bounded by the records kept, and the
// sink's transactions (each a few disk syncs for the study store) stay
// few however small the batches.
type writer struct {
	sink Sink
	mu   sync.Mutex
	cond *sync.Cond // signalled when pending grows or the writer closes
	// pending holds the commits not yet taken by the goroutine, at most
	// one per run of batches of one space.
	pending []commit
	closed  bool
	closing chan struct{} // closed by close, to end a wait between commits
	done    chan struct{}
	failed  atomic.Bool
	err     error // set before done is closed
}

func startWriter(s Sink) *writer {
	w := &writer{sink: s, closing: make(chan struct{}), done: make(chan struct{})}
	w.cond = sync.NewCond(&w.mu)
	go func() {
		defer close(w.done)
		var taken []commit
		for first := true; ; first = false {
			if !first {
				// Let the next batches gather; close ends the wait, so a
				// finished or cancelled search stores everything at once.
				t := time.NewTimer(commitEvery)
				select {
				case <-t.C:
				case <-w.closing:
					t.Stop()
				}
			}
			w.mu.Lock()
			for len(w.pending) == 0 && !w.closed {
				w.cond.Wait()
			}
			taken, w.pending = w.pending, taken[:0]
			w.mu.Unlock()
			if len(taken) == 0 {
				return // closed, with nothing left
			}
			for k := range taken {
				if w.err != nil {
					break // drain: the search stops at its next batch
				}
				c := &taken[k]
				add, drop := c.final()
				if err := w.sink.Commit(c.st, add, drop); err != nil {
					w.err = err
					w.failed.Store(true)
				}
			}
			clear(taken)
		}
	}()
	return w
}

// commitEvery is the least time between two commits of a writer: a
// process killed outright loses at most about that much evaluation (an
// interrupt or a cancelled search loses none, since close commits what
// waits).
const commitEvery = 100 * time.Millisecond

// send queues a commit; it reports false when an earlier commit failed.
func (w *writer) send(c commit) bool {
	if w.failed.Load() {
		return false
	}
	w.mu.Lock()
	if n := len(w.pending); n > 0 && w.pending[n-1].st.Space == c.st.Space {
		w.pending[n-1].merge(c)
	} else {
		w.pending = append(w.pending, c)
	}
	w.cond.Signal()
	w.mu.Unlock()
	return true
}

// close waits for every queued commit and returns the first error.
func (w *writer) close() error {
	w.mu.Lock()
	if !w.closed {
		w.closed = true
		close(w.closing)
	}
	w.cond.Signal()
	w.mu.Unlock()
	<-w.done
	return w.err
}
