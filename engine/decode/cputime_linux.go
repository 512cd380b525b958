package decode

import (
	"runtime"
	"syscall"
	"unsafe"
)

// clockThreadCPUTime is Linux's CLOCK_THREAD_CPUTIME_ID.
const clockThreadCPUTime = 3

// threadCPU returns the CPU time of the calling OS thread in seconds and
// whether it could be read.
func threadCPU() (float64, bool) {
	var ts syscall.Timespec
	_, _, errno := syscall.Syscall(syscall.SYS_CLOCK_GETTIME, clockThreadCPUTime, uintptr(unsafe.Pointer(&ts)), 0)
	if errno != 0 {
		return 0, false
	}
	return float64(ts.Sec) + float64(ts.Nsec)*1e-9, true
}

// cpuTimed runs f on one locked OS thread and returns its thread CPU
// time (0 where the clock cannot be read).
func cpuTimed(f func() error) (float64, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	t0, ok := threadCPU()
	err := f()
	t1, ok1 := threadCPU()
	if !ok || !ok1 {
		return 0, err
	}
	return t1 - t0, err
}
