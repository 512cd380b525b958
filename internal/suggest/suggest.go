// Package suggest finds the known names closest to a misspelt one, for
// error messages that name the fix.
package suggest

import (
	"fmt"
	"sort"
	"strings"

	"github.com/scaleacross/scaleacross/fault"
)

// MaxEcho is the most bytes of an unknown id an error repeats, and the
// longest id Closest compares (the edit distance is quadratic).
const MaxEcho = 64

// UnknownIDError reports a catalog id that does not exist, with the known
// ids nearest to it. It exits with code 2 (bad input).

type UnknownIDError struct {
	// Kind is the catalog searched, e.g. "model" or "gpu".
	Kind string
	// ID is the id as given.
	ID string
	// Nearest lists the known ids closest to ID, best first.
	Nearest []string
	// Hint, when set, says what else was tried and what would work.
	Hint string
}

func (e *UnknownIDError) Error() string {
	id := e.ID
	if len(id) > MaxEcho {
		id = id[:MaxEcho] + "..."
	}
	msg := fmt.Sprintf("unknown %s id %q", e.Kind, id)
	if len(e.ID) > MaxEcho {
		msg += fmt.Sprintf(" (%d bytes, shortened)", len(e.ID))
	}
	if len(e.Nearest) > 0 {
		msg += fmt.Sprintf("; nearest known ids: %s", strings.Join(e.Nearest, ", "))
	}
	if e.Hint != "" {
		msg += "; " + e.Hint
	}
	return msg
}

// Is reports the error as bad input (fault.ErrBadInput).
func (e *UnknownIDError) Is(target error) bool { return target == fault.ErrBadInput }

// Closest returns up to n candidates nearest to name by edit distance
// (ties broken alphabetically), preferring candidates that contain name.
func Closest(name string, candidates []string, n int) []string {
	type scored struct {
		s string
		d int
	}
	if len(name) > MaxEcho {
		return nil // no id is that long; the edit distance would only cost time
	}
	lname := strings.ToLower(name)
	var all []scored
	for _, c := range candidates {
		lc := strings.ToLower(c)
		d := distance(lname, lc)
		if lname != "" && (strings.Contains(lc, lname) || strings.Contains(lname, lc)) {
			d = 0
		}
		all = append(all, scored{c, d})
	}
	sort.Slice(all, func(i, j int) bool {
		if all[i].d != all[j].d {
			return all[i].d < all[j].d
		}
		return all[i].s < all[j].s
	})
	if len(all) > n {
		all = all[:n]
	}
	out := make([]string, len(all))
	for i, a := range all {
		out[i] = a.s
	}
	return out
}

// distance is the Levenshtein edit distance between a and b.
func distance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
