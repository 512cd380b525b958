package topology

import (
	"fmt"
	"slices"
	"strings"

	"github.com/scaleacross/scaleacross/fault"
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
// (arXiv 2407.21783, section 3.3.2). EP is carved out of cp*dp and sits
// just inside dp unless the placement names it.
func DefaultPlacement() []Dim { return []Dim{TP, CP, PP, DP} }

// Dims lists the dimensions a placement may name.
func Dims() []Dim { return []Dim{TP, CP, EP, DP, PP} }

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

// times is the span of the union of two groups laid at nested strides:
// their factors multiply level by level, into f.
func (s Span) times(o Span, f []int) Span {
	for i := range f {
		f[i] = s.Factors[i] * o.Factors[i]
	}
	return Span{Factors: f}
}

// Layout is the position of every parallel group on the hierarchy.
type Layout struct {
	Placement []Dim        `json:"placement"`
	Spans     map[Dim]Span `json:"spans"`
	// Stride is the rank distance between consecutive members of a group.
	Stride map[Dim]int `json:"stride"`
}

// Crosses reports whether the groups of d span level i.
func (l Layout) Crosses(d Dim, i int) bool {
	f := l.Spans[d].Factors
	return i < len(f) && f[i] > 1
}

// SiteDims lists, in placement order, the dimensions whose groups cross a
// site level of t.
func (l Layout) SiteDims(t Topology) []Dim {
	var out []Dim
	for _, d := range Dims() {
		for _, i := range t.SiteLevels() {
			if l.Crosses(d, i) {
				out = append(out, d)
				break
			}
		}
	}
	return out
}

// ParsePlacement checks a placement given as names, innermost first.
func ParsePlacement(names []string) ([]Dim, error) {
	out := make([]Dim, len(names))
	for i, n := range names {
		d := Dim(strings.ToLower(strings.TrimSpace(n)))
		switch d {
		case TP, CP, EP, DP, PP:
		default:
			return nil, fault.Field(fmt.Sprintf("placement[%d]", i), "unknown dimension %q; use tp, cp, ep, dp or pp", n)
		}
		if j := slices.Index(out[:i], d); j >= 0 {
			return nil, fault.Field(fmt.Sprintf("placement[%d]", i), "dimension %q is repeated (also placement[%d]); name each dimension once", d, j)
		}
		out[i] = d
	}
	return out, nil
}

// PutOutermost moves d to the end (outermost) of placement, adding the
// missing dimensions in default order first, so that d is the one that
// spans the sites.
func PutOutermost(placement []Dim, d Dim) []Dim {
	var out []Dim
	have := map[Dim]bool{}
	for _, p := range placement {
		have[p] = true
	}
	for _, p := range DefaultPlacement() {
		if !have[p] {
			placement = append(placement, p)
		}
	}
	for _, p := range placement {
		if p != d {
			out = append(out, p)
		}
	}
	return append(out, d)
}

// CheckCrossSite verifies that d is the only dimension whose groups cross
// the sites of t under layout l.
func CheckCrossSite(t Topology, l Layout, d Dim, degree int) error {
	sites := t.Sites()
	if sites <= 1 {
		return fault.Field("cross_site", "the topology has one site (no level with distance_km or link_capacity_gbps, or named building/region); nothing to place across sites")
	}
	for _, o := range l.SiteDims(t) {
		if o != d {
			return fault.Field("cross_site", "%s crosses the sites too: %s=%d must be a multiple of the %d sites so that it alone spans them", o, d, degree, sites)
		}
	}
	if !slices.Contains(l.SiteDims(t), d) {
		return fault.Field("cross_site", "%s=%d does not reach across the %d sites; raise it or pick another dimension", d, degree, sites)
	}
	return nil
}

// Place lays the dimensions out in placement order (innermost first) on t
// and returns each group's span. degrees holds tp, cp, pp, dp and ep.
// Expert parallelism is carved out of cp*dp (Megatron convention): an ep
// group is the cp group (or ep members of it when ep <= cp) times the
// ep/cp members of dp that the placement's ep entry positions; without
// one, they are dp's innermost members. Dimensions the placement leaves
// out follow in default order.
func Place(t Topology, placement []Dim, degrees map[Dim]int) (Layout, error) {
	var deg [NumDims]int
	for _, d := range Dims() {
		deg[dimIndex(d)] = degrees[d]
	}
	g, err := PlaceGrid(t, placement, deg)
	if err != nil {
		return Layout{}, err
	}
	return g.Layout(), nil
}

// NumDims is the number of parallel dimensions.
const NumDims = 5

// DimIndex numbers the dimensions tp, cp, ep, pp and dp from 0: the index
// of a Grid's arrays.
func DimIndex(d Dim) int { return dimIndex(d) }

// Grid is a Layout held in arrays indexed by DimIndex, for callers that
// read a few spans per layout and need not pay for its maps.
type Grid struct {
	Placement []Dim
	Spans     [NumDims]Span
	Stride    [NumDims]int
}

// Layout is g as a Layout; the two share their slices.
func (g Grid) Layout() Layout {
	l := Layout{Placement: g.Placement, Spans: make(map[Dim]Span, NumDims), Stride: make(map[Dim]int, NumDims)}
	for _, d := range Dims() {
		l.Spans[d], l.Stride[d] = g.Spans[dimIndex(d)], g.Stride[dimIndex(d)]
	}
	return l
}

// PlaceGrid is Place with the degrees indexed by DimIndex, returning the
// layout as a Grid.
func PlaceGrid(t Topology, placement []Dim, degrees [NumDims]int) (Grid, error) {
	placement, err := placementOf(placement)
	if err != nil {
		return Grid{}, err
	}
	for _, d := range DefaultPlacement() {
		if !slices.Contains(placement, d) {
			placement = append(placement, d)
		}
	}
	cp := max(degrees[dimIndex(CP)], 1)
	ep := max(degrees[dimIndex(EP)], 1)
	dp := max(degrees[dimIndex(DP)], 1)
	epd := 1 // members of dp inside one ep group
	if ep > cp {
		if ep%cp != 0 || dp%(ep/cp) != 0 {
			return Grid{}, fault.Field("parallel.ep", "ep=%d larger than cp=%d must be cp times a divisor of dp=%d", ep, cp, dp)
		}
		epd = ep / cp
	}
	// Pieces in rank order: the ep share of dp sits where ep is placed, or
	// just inside the rest of dp.
	var orderBuf [NumDims + 1]Dim
	order := append(orderBuf[:0], placement...)
	if !slices.Contains(order, EP) {
		order = slices.Insert(order, slices.Index(order, DP), EP)
	}
	g := Grid{Placement: placement}
	// Every span's factors live in one buffer, each piece capped so that
	// an append to one cannot write into the next: the pieces in order,
	// dp's and ep's products.
	nl := len(t.Levels)
	factors := make([]int, (len(order)+2)*nl)
	next := func() []int {
		f := factors[:nl:nl]
		factors = factors[nl:]
		return f
	}
	var pieces [NumDims]Span // by dimIndex
	stride := 1
	for _, d := range order {
		n := degrees[dimIndex(d)]
		switch d {
		case EP:
			n = epd
		case DP:
			n = dp / epd
		}
		n = max(n, 1)
		sp, err := spanInto(t, stride, n, next())
		if err != nil {
			return Grid{}, fault.Field("placement", "%s cannot fit where it is placed (%s): %v", d, placementString(placement), err)
		}
		pieces[dimIndex(d)] = sp
		g.Stride[dimIndex(d)] = stride // order names each dimension once
		stride *= n
	}
	for _, d := range []Dim{TP, CP, PP} {
		g.Spans[dimIndex(d)] = pieces[dimIndex(d)]
	}
	g.Spans[dimIndex(DP)] = pieces[dimIndex(EP)].times(pieces[dimIndex(DP)], next())
	if epd > 1 {
		g.Stride[dimIndex(DP)] = g.Stride[dimIndex(EP)]
	}
	if ep <= cp {
		sp, err := spanInto(t, g.Stride[dimIndex(CP)], ep, next())
		if err != nil {
			return Grid{}, fault.Field("parallel.ep", "ep=%d inside cp=%d: %v", ep, cp, err)
		}
		g.Spans[dimIndex(EP)] = sp
	} else {
		g.Spans[dimIndex(EP)] = pieces[dimIndex(CP)].times(pieces[dimIndex(EP)], next())
	}
	g.Stride[dimIndex(EP)] = g.Stride[dimIndex(CP)]
	return g, nil
}

func placementString(p []Dim) string {
	s := make([]string, len(p))
	for i, d := range p {
		s[i] = string(d)
	}
	return "[" + strings.Join(s, ", ") + "]"
}

// spanInto computes the span of a group of n members at rank stride st,
// its factors in f (one per level).
func spanInto(t Topology, st, n int, f []int) (Span, error) {
	prev := n // distinct units at the level below (GPUs first)
	c := 1    // GPUs in one unit of level i, accumulated (not Capacity(i): linear, not quadratic, in the levels)
	for i := range t.Levels {
		c *= t.Levels[i].Size
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

// placementOf is ParsePlacement of placement's names, in a slice with
// room for the default dimensions; a placement that is already valid (the
// usual case: a resolved configuration's) is copied without the names.
func placementOf(placement []Dim) ([]Dim, error) {
	valid := len(placement) <= NumDims
	for i, d := range placement {
		if !valid {
			break
		}
		switch d {
		case TP, CP, EP, DP, PP:
			valid = !slices.Contains(placement[:i], d)
		default:
			valid = false
		}
	}
	if valid {
		out := make([]Dim, len(placement), NumDims)
		copy(out, placement)
		return out, nil
	}
	names := make([]string, len(placement))
	for i, d := range placement {
		names[i] = string(d)
	}
	return ParsePlacement(names)
}

// dimIndex numbers the dimensions for small fixed-size tables.
func dimIndex(d Dim) int {
	switch d {
	case TP:
		return 0
	case CP:
		return 1
	case EP:
		return 2
	case PP:
		return 3
	}
	return 4
}
