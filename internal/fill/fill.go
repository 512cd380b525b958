// Package fill sets every element of a slice to one value, four at a
// time: the step model fills its per-chunk tables (one entry per virtual
// stage) on every evaluation, where a loop of single stores costs more
// than the values it writes.
package fill

// Slice sets every element of s to x.
func Slice[T any](s []T, x T) {
	i := 0
	for ; i+4 <= len(s); i += 4 {
		q := s[i : i+4 : i+4]
		q[0], q[1], q[2], q[3] = x, x, x, x
	}
	for ; i < len(s); i++ {
		s[i] = x
	}
}
