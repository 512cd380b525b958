//go:build !unix

package cputime

import "time"

// Process reports no CPU clock where the operating system has neither
// clock_gettime's process clock nor getrusage.
func Process() (time.Duration, bool) { return 0, false }
