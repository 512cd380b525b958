package tensor

import "testing"

// TestPoolRunsBothParts checks that every Run calls both parts once and
// returns after both.
func TestPoolRunsBothParts(t *testing.T) {
	p := NewPool()
	defer p.Close()
	var got [2]int
	for i := 0; i < 10000; i++ {
		p.Run(func(part int) { got[part]++ })
		if got[0] != i+1 || got[1] != i+1 {
			t.Fatalf("after %d runs the parts ran %v times", i+1, got)
		}
	}
}

// BenchmarkPoolRun is the cost of one empty fork-join.
func BenchmarkPoolRun(b *testing.B) {
	p := NewPool()
	defer p.Close()
	f := func(int) {}
	for b.Loop() {
		p.Run(f)
	}
}
