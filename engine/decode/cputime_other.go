//go:build !linux

package decode

// cpuTimed runs f; thread CPU time is only measured on Linux.
func cpuTimed(f func() error) (float64, error) { return 0, f() }
