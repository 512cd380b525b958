package fill

import (
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestSlice checks that every element is set, for lengths around the
// unrolled step's multiples, and nothing past the slice's end.
func TestSlice(t *testing.T) {
	for n := range 20 {
		buf := make([]int, n+2)
		Slice(buf[:n], 7)
		want := append(slices.Repeat([]int{7}, n), 0, 0)
		if d := cmp.Diff(want, buf); d != "" {
			t.Errorf("n=%d (-want +got):\n%s", n, d)
		}
	}
}
