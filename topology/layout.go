package topology

import (
	"fmt"

	"github.com/scaleacross/scaleacross/spec"
)

// Dim names a parallel dimension.
type Dim string

// Parallel dimensions that can be placed on the hierarchy.
const (
	TP Dim = "tp"
	CP Dim = "cp"
	EP Dim = "ep"
	DP Dim = "dp"
	PP Dim = "pp"
)

// DefaultPlacement lays tensor parallelism innermost, then context,
// pipeline and data parallelism outermost, as Llama 3 405B was trained
// (arXiv 2407.21783, section 3.3.2). EP is carved out of cp*dp.
func DefaultPlacement() []Dim { return []Dim{TP, CP, PP, DP} }

// Span says how a parallel group spreads over the hierarchy: Factors[i] is
// how many distinct units of level i-1 (GPUs for i = 0) the group touches
// inside one unit of level i. The product of Factors is the group size.
type Span struct {
	Factors []int `json:"factors"`
}

// Size is the number of ranks in the group.
func (s Span) Size() int {
	n := 1
	for _, f := range s.Factors {
		n *= f
	}
	return n
}

// Outermost is the index of the outermost level the group crosses, or -1
// for a group of one.
func (s Span) Outermost() int {
	for i := len(s.Factors) - 1; i >= 0; i-- {
		if s.Factors[i] > 1 {
			return i
		}
	}
	return -1
}

// Layout is the position of every parallel group on the hierarchy.
type Layout struct {
	Placement []Dim        `json:"placement"`
	Spans     map[Dim]Span `json:"spans"`
	// Stride is the rank distance between consecutive members of a group.
	Stride map[Dim]int `json:"stride"`
}

// Place lays the dimensions out in placement order (innermost first) on t
// and returns each group's span. degrees holds tp, cp, pp, dp and ep; ep
// groups are the first ep members of the cp*dp grid.
func Place(t Topology, placement []Dim, degrees map[Dim]int) (Layout, error) {
	seen := map[Dim]bool{}
	for i, d := range placement {
		switch d {
		case TP, CP, PP, DP:
		case EP:
			return Layout{}, spec.Errorf(fmt.Sprintf("placement[%d]", i), "ep is carved out of cp and dp and follows them; leave it out of the placement")
		default:
			return Layout{}, spec.Errorf(fmt.Sprintf("placement[%d]", i), "unknown dimension %q; use tp, cp, pp or dp", d)
		}
		if seen[d] {
			return Layout{}, spec.Errorf(fmt.Sprintf("placement[%d]", i), "dimension %q is repeated", d)
		}
		seen[d] = true
	}
	for _, d := range []Dim{TP, CP, PP, DP} {
		if !seen[d] {
			placement = append(placement, d)
		}
	}
	l := Layout{Placement: placement, Spans: map[Dim]Span{}, Stride: map[Dim]int{}}
	stride := 1
	for _, d := range placement {
		n := degrees[d]
		sp, err := span(t, stride, n)
		if err != nil {
			return Layout{}, spec.Errorf("placement", "%s=%d at rank stride %d: %v", d, n, stride, err)
		}
		l.Spans[d] = sp
		l.Stride[d] = stride
		stride *= n
	}
	// EP groups: consecutive members of cp, continuing into dp when ep > cp.
	ep := degrees[EP]
	if ep <= 0 {
		ep = 1
	}
	cp := max(degrees[CP], 1)
	var err error
	switch {
	case ep <= cp:
		l.Spans[EP], err = span(t, l.Stride[CP], ep)
		l.Stride[EP] = l.Stride[CP]
	default:
		// cp whole, then ep/cp members of dp.
		inner := l.Spans[CP]
		outer, e2 := span(t, l.Stride[DP], ep/cp)
		err = e2
		f := make([]int, len(t.Levels))
		for i := range f {
			f[i] = inner.Factors[i] * outer.Factors[i]
		}
		l.Spans[EP] = Span{Factors: f}
		l.Stride[EP] = l.Stride[CP]
	}
	if err != nil {
		return Layout{}, spec.Errorf("parallel.ep", "ep=%d: %v", ep, err)
	}
	return l, nil
}

// span computes the span of a group of n members at rank stride st.
func span(t Topology, st, n int) (Span, error) {
	f := make([]int, len(t.Levels))
	prev := n // distinct units at the level below (GPUs first)
	for i := range t.Levels {
		c := t.Capacity(i)
		var units int
		switch {
		case n == 1:
			units = 1
		case st >= c:
			if st%c != 0 {
				return Span{}, fmt.Errorf("straddles %s boundaries unevenly (stride %d vs %d GPUs per %s)", t.Levels[i].Name, st, c, t.Levels[i].Name)
			}
			units = n
		case st*n <= c:
			if c%(st*n) != 0 {
				return Span{}, fmt.Errorf("does not tile a %s of %d GPUs evenly", t.Levels[i].Name, c)
			}
			units = 1
		default:
			if c%st != 0 || (st*n)%c != 0 {
				return Span{}, fmt.Errorf("straddles %s boundaries unevenly", t.Levels[i].Name)
			}
			units = st * n / c
		}
		f[i] = prev / units
		prev = units
	}
	if prev != 1 {
		// The group is larger than the hierarchy.
		return Span{}, fmt.Errorf("needs %d GPUs per group but the topology holds %d", st*n, t.GPUs())
	}
	return Span{Factors: f}, nil
}
