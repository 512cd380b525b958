package explore

import (
	"cmp"
	"slices"
	"sync"
	"sync/atomic"
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
	// kept is ordered by step time, then index; its first n records are
	// the fastest.
	kept []Record
	// scratch and fresh are reused between batches.
	scratch []keptEntry
	fresh   []Record
}

// keptEntry is a record under consideration, marked when it was kept
// before this batch.
type keptEntry struct {
	r   Record
	old bool
}

func byRank(a, b Record) int {
	if c := cmp.Compare(a.StepTimeS, b.StepTimeS); c != 0 {
		return c
	}
	return cmp.Compare(a.Index, b.Index)
}

// add offers the fresh records (none of which is kept yet) and returns
// those it keeps and the indices of the previously kept records it no
// longer keeps.
func (k *keeper) add(fresh []Record) (added []Record, dropped []int) {
	if len(fresh) == 0 {
		return nil, nil
	}
	if k.n < 0 {
		k.kept = append(k.kept, fresh...)
		return slices.Clone(fresh), nil
	}
	// A fresh record slower than the n-th kept one is kept only if it has
	// more headroom than every one of the n fastest.
	full := len(k.kept) >= k.n
	var thr Record
	maxH := 0.0
	if full {
		thr = k.kept[k.n-1]
		maxH = k.capacity - k.kept[0].MemoryGiB
		for _, r := range k.kept[1:k.n] {
			maxH = max(maxH, k.capacity-r.MemoryGiB)
		}
	}
	news := k.fresh[:0]
	for _, r := range fresh {
		if full && byRank(r, thr) > 0 && k.capacity-r.MemoryGiB <= maxH {
			continue
		}
		news = append(news, r)
	}
	k.fresh = news
	if len(news) == 0 {
		return nil, nil
	}
	// Merge the few fresh survivors, sorted, into the kept records, which
	// are sorted already.
	slices.SortFunc(news, byRank)
	e := k.scratch[:0]
	a := 0
	for _, r := range news {
		for a < len(k.kept) && byRank(k.kept[a], r) < 0 {
			e = append(e, keptEntry{k.kept[a], true})
			a++
		}
		e = append(e, keptEntry{r, false})
	}
	for ; a < len(k.kept); a++ {
		e = append(e, keptEntry{k.kept[a], true})
	}
	kept := k.kept[:0]
	bestH := 0.0
	for i, x := range e {
		h := k.capacity - x.r.MemoryGiB
		keep := i < k.n
		if i == 0 || h > bestH {
			bestH = h
			keep = true
		}
		switch {
		case keep:
			kept = append(kept, x.r)
			if !x.old {
				added = append(added, x.r)
			}
		case x.old:
			dropped = append(dropped, x.r.Index)
		}
	}
	k.kept = kept
	k.scratch = e
	slices.Sort(dropped)
	return added, dropped
}

// records returns a copy of the kept records in index order.
func (k *keeper) records() []Record {
	out := slices.Clone(k.kept)
	slices.SortFunc(out, func(a, b Record) int { return cmp.Compare(a.Index, b.Index) })
	return out
}

// commit is one batch's hand-over to the sink.
type commit struct {
	st   State
	add  []Record
	drop []int
}

// writer commits batches to a sink on its own goroutine, in order, so
// that evaluation goes on while the sink stores. The queue is bounded:
// the search waits when the sink falls more than a few batches behind.
type writer struct {
	sink   Sink
	ch     chan commit
	done   chan struct{}
	failed atomic.Bool
	once   sync.Once
	err    error // set before done is closed
}

// writerQueue is the number of batches that may wait for the sink.
const writerQueue = 4

func startWriter(s Sink) *writer {
	w := &writer{sink: s, ch: make(chan commit, writerQueue), done: make(chan struct{})}
	go func() {
		defer close(w.done)
		for c := range w.ch {
			if w.err != nil {
				continue // drain: the search stops at its next batch
			}
			if err := w.sink.Commit(c.st, c.add, c.drop); err != nil {
				w.err = err
				w.failed.Store(true)
			}
		}
	}()
	return w
}

// send queues a commit; it reports false when an earlier commit failed.
func (w *writer) send(c commit) bool {
	if w.failed.Load() {
		return false
	}
	w.ch <- c
	return true
}

// close waits for every queued commit and returns the first error.
func (w *writer) close() error {
	w.once.Do(func() { close(w.ch) })
	<-w.done
	return w.err
}
