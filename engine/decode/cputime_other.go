//go:build !linux

package decode

// cpuTimed runs f; process CPU time is only measured on Linux.
func cpuTimed(f func() error) (float64, error) { return 0, f() }
