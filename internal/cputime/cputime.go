// Package cputime reads the CPU time the whole process has used: every
// thread, the garbage collector's included. Benchmarks and estimates on a
// shared machine read it instead of the wall clock, which counts other
// processes' turns.
package cputime

import "time"

// Seconds is Process in seconds.
func Seconds() (float64, bool) {
	d, ok := Process()
	return d.Seconds(), ok
}

// Since is the CPU time used since an earlier reading t0 of Process, or
// 0 where the operating system does not say.
func Since(t0 time.Duration) time.Duration {
	t1, ok := Process()
	if !ok {
		return 0
	}
	return t1 - t0
}
