//go:build unix

package explore

import (
	"syscall"
	"time"
)

// processCPU is the user and system CPU time this process has used, all
// threads together; 0 where the operating system does not say.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
