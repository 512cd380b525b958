package specdec

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/scaleacross/scaleacross/fault"
)

// Tree is a static draft tree given as the list of its root paths, the
// convention of Medusa and EAGLE: the path [0 1] is the second-ranked
// candidate below the top-ranked candidate of the first draft position.
// The root (the last committed token) is implicit and not a node.
//
// Nodes are numbered 1..n in canonical order (by depth, then
// lexicographically by path); node 0 is the root.
type Tree struct {
	paths  [][]int // canonical order
	parent []int   // parent[i] for node i (parent[0] = -1)
	depth  []int   // depth[i]; depth[0] = 0
	rank   []int   // rank[i]: the last element of node i's path
}

// TreeError reports a malformed tree; it is bad input (exit code 2).
type TreeError struct{ Msg string }

func (e *TreeError) Error() string { return e.Msg }

// Is reports the error as bad input (fault.ErrBadInput).
func (e *TreeError) Is(target error) bool { return target == fault.ErrBadInput }

// Bounds on a tree built by NewTree: at most MaxTreeNodes draft positions
// and paths at most MaxTreeDepth deep, so that a hostile tree cannot make
// the verification and acceptance models run for minutes.
const (
	MaxTreeNodes = 256
	MaxTreeDepth = 64
)

// NewTree builds a tree from root paths. Every path must be non-empty with
// non-negative ranks, unique, and prefix-closed: each proper prefix of a
// path must itself be a path.
func NewTree(paths [][]int) (*Tree, error) {
	if len(paths) > MaxTreeNodes {
		return nil, &TreeError{fmt.Sprintf("tree has %d paths, over the limit of %d draft positions", len(paths), MaxTreeNodes)}
	}
	seen := make(map[string]bool, len(paths))
	cp := make([][]int, 0, len(paths))
	for i, p := range paths {
		if len(p) == 0 {
			return nil, &TreeError{fmt.Sprintf("tree path %d is empty; every path names at least one draft position", i)}
		}
		if len(p) > MaxTreeDepth {
			return nil, &TreeError{fmt.Sprintf("tree path %d is %d deep, over the limit of %d", i, len(p), MaxTreeDepth)}
		}
		for _, r := range p {
			if r < 0 {
				return nil, &TreeError{fmt.Sprintf("tree path %v has a negative rank", p)}
			}
		}
		k := pathKey(p)
		if seen[k] {
			return nil, &TreeError{fmt.Sprintf("tree path %v appears twice", p)}
		}
		seen[k] = true
		cp = append(cp, append([]int(nil), p...))
	}
	for _, p := range cp {
		for l := 1; l < len(p); l++ {
			if !seen[pathKey(p[:l])] {
				return nil, &TreeError{fmt.Sprintf("tree paths are not prefix-closed: %v is listed but its prefix %v is not", p, p[:l])}
			}
		}
	}
	sort.Slice(cp, func(i, j int) bool { return lessPath(cp[i], cp[j]) })
	t := &Tree{paths: cp, parent: make([]int, len(cp)+1), depth: make([]int, len(cp)+1), rank: make([]int, len(cp)+1)}
	index := make(map[string]int, len(cp))
	t.parent[0] = -1
	for i, p := range cp {
		n := i + 1
		index[pathKey(p)] = n
		t.depth[n] = len(p)
		t.rank[n] = p[len(p)-1]
		if len(p) > 1 {
			t.parent[n] = index[pathKey(p[:len(p)-1])]
		}
	}
	return t, nil
}

// Chain returns the chain of n draft tokens (top-1 at each depth).
func Chain(n int) *Tree {
	paths := make([][]int, n)
	for i := range paths {
		paths[i] = make([]int, i+1)
	}
	t, _ := NewTree(paths) // a chain is always well formed
	return t
}

func pathKey(p []int) string {
	var b strings.Builder
	for i, r := range p {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(r))
	}
	return b.String()
}

func lessPath(a, b []int) bool {
	if len(a) != len(b) {
		return len(a) < len(b)
	}
	for i := range a {
		if a[i] != b[i] {
			return a[i] < b[i]
		}
	}
	return false
}

// Size is the number of draft nodes n (the root excluded).
func (t *Tree) Size() int { return len(t.paths) }

// Depth is the length of the longest path (0 for the empty tree).
func (t *Tree) Depth() int {
	d := 0
	for _, x := range t.depth {
		d = max(d, x)
	}
	return d
}

// Paths returns a copy of the root paths in canonical order.
func (t *Tree) Paths() [][]int {
	out := make([][]int, len(t.paths))
	for i, p := range t.paths {
		out[i] = append([]int(nil), p...)
	}
	return out
}

// Parent returns the parent of node i (1..n); the root's children have parent 0.
func (t *Tree) Parent(i int) int { return t.parent[i] }

// NodeDepth returns the depth of node i (the root has depth 0).
func (t *Tree) NodeDepth(i int) int { return t.depth[i] }

// Rank returns the sibling rank of node i (0 = the draft's top candidate).
func (t *Tree) Rank(i int) int { return t.rank[i] }

// Children returns the children of node i in rank order.
func (t *Tree) Children(i int) []int {
	var c []int
	for j := 1; j < len(t.parent); j++ {
		if t.parent[j] == i {
			c = append(c, j)
		}
	}
	sort.SliceStable(c, func(a, b int) bool { return t.rank[c[a]] < t.rank[c[b]] })
	return c
}

// LevelWidths returns how many nodes sit at each depth 1..Depth().
func (t *Tree) LevelWidths() []int {
	w := make([]int, t.Depth())
	for i := 1; i < len(t.depth); i++ {
		w[t.depth[i]-1]++
	}
	return w
}

// Mask returns the (n+1)x(n+1) tree attention mask over the root and the
// nodes: entry [i][j] is true when token i may attend token j, that is when
// j is i or one of its ancestors. The committed prefix before the root is
// attended by every row and is not part of the mask.
func (t *Tree) Mask() [][]bool {
	n := len(t.parent)
	m := make([][]bool, n)
	for i := range m {
		m[i] = make([]bool, n)
		for j := i; j >= 0; j = t.parent[j] {
			m[i][j] = true
			if j == 0 {
				break
			}
		}
	}
	return m
}

// Positions returns the position ids of the root and the nodes relative
// to the root: a node's position is its depth. Add the root's absolute
// position to get the rotary positions.
func (t *Tree) Positions() []int { return append([]int(nil), t.depth...) }

// String renders the tree as its root paths, e.g. "[[0] [0 0] [1]]".
func (t *Tree) String() string { return fmt.Sprint(t.paths) }
