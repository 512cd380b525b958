package explore

import (
	"math/rand/v2"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Commits merged by the writer store what the same commits made one by
// one store: for batches of two spaces from a keeper that drops records
// in most batches, merged in runs of every length, the sink ends with the
// same states and records, and no merged commit drops a record the sink
// does not hold (memSink fails the commit if one does).
func TestMergedCommitsStoreTheSame(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var batches []commit
	for _, space := range []string{ExplorerSpace, ProductionSpace} {
		k := &keeper{n: 5, capacity: 80}
		st := State{Space: space}
		for b := 0; b < 40; b++ {
			var fresh []Record
			for i := 0; i < 1+rng.IntN(12); i++ {
				fresh = append(fresh, Record{Index: st.Next, StepTimeS: 1 + rng.Float64(), MemoryGiB: 80 * rng.Float64()})
				st.Next++
			}
			add, drop := k.add(fresh)
			st.Evaluated += len(fresh)
			batches = append(batches, commit{st: st, add: add, drop: drop})
		}
	}
	newSink := func() *memSink { return &memSink{states: map[string]State{}, recs: map[string]map[int]Record{}} }
	want := newSink()
	for _, c := range batches {
		if err := want.Commit(c.st, c.add, c.drop); err != nil {
			t.Fatal(err)
		}
	}
	for run := 1; run <= 13; run++ {
		got := newSink()
		var pending []commit
		flush := func() {
			for k := range pending {
				add, drop := pending[k].final()
				if err := got.Commit(pending[k].st, add, drop); err != nil {
					t.Fatalf("runs of %d: %v", run, err)
				}
			}
			pending = pending[:0]
		}
		for i, c := range batches {
			// A copy, as each batch's slices are the writer's to change.
			c.add, c.drop = append([]Record(nil), c.add...), append([]int(nil), c.drop...)
			if n := len(pending); n > 0 && pending[n-1].st.Space == c.st.Space {
				pending[n-1].merge(c)
			} else {
				pending = append(pending, c)
			}
			if (i+1)%run == 0 {
				flush()
			}
		}
		flush()
		if diff := cmp.Diff(want.stored(), got.stored()); diff != "" {
			t.Errorf("runs of %d: merged commits store otherwise (-one by one +merged):\n%s", run, diff)
		}
	}
}
