// Package fill sets every element of a slice to one value, eight at a
// time: the step model fills its per-chunk tables (one entry per virtual
// stage) on every evaluation, where a loop of single stores costs more
// than the values it writes.
package fill

// Slice sets every element of s to x, eight at a time through an array
// pointer (one bounds check for the eight stores).
func Slice[T any](s []T, x T) {
	i := 0
	for ; i+8 <= len(s); i += 8 {
		q := (*[8]T)(s[i : i+8])
		q[0], q[1], q[2], q[3], q[4], q[5], q[6], q[7] = x, x, x, x, x, x, x, x
	}
	for ; i < len(s); i++ {
		s[i] = x
	}
}
