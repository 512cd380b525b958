//go:build unix

package train_test

import "syscall"

// processCPUSeconds is the user and system CPU time this process has used,
// all threads together: a benchmark budget checked against it holds on a
// loaded machine, where wall time per op counts other processes' turns.
func processCPUSeconds() (float64, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, false
	}
	tv := func(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }
	return tv(ru.Utime) + tv(ru.Stime), true
}
