//go:build unix && !linux

package cputime

import (
	"syscall"
	"time"
)

// Process returns the user and system CPU time of the whole process
// (getrusage) and whether it could be read.
func Process() (time.Duration, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
