package decode

import (
	"syscall"
	"unsafe"
)

// clockProcessCPUTime is Linux's CLOCK_PROCESS_CPUTIME_ID.
const clockProcessCPUTime = 2

// processCPUTime returns the CPU time of the whole process (every
// thread, the two-core pool's worker included) in seconds and whether
// it could be read.
func processCPUTime() (float64, bool) {
	var ts syscall.Timespec
	_, _, errno := syscall.Syscall(syscall.SYS_CLOCK_GETTIME, clockProcessCPUTime, uintptr(unsafe.Pointer(&ts)), 0)
	if errno != 0 {
		return 0, false
	}
	return float64(ts.Sec) + float64(ts.Nsec)*1e-9, true
}

// cpuTimed runs f and returns the process CPU time it took (0 where the
// clock cannot be read): on two cores that includes the pool worker's,
// which spins for the whole generation. Bench runs one generation at a
// time, so nothing else of the process runs beside f but the garbage
// collector. f is not locked to an OS thread: a locked caller that
// yields while it waits for the pool's worker hands its thread over.
func cpuTimed(f func() error) (float64, error) {
	t0, ok := processCPUTime()
	err := f()
	t1, ok1 := processCPUTime()
	if !ok || !ok1 {
		return 0, err
	}
	return t1 - t0, err
}
