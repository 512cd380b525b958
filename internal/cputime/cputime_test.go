package cputime

import (
	"testing"
	"time"
)

// Spinning for a while uses CPU time, and the clock never runs backwards.
func TestProcessAdvancesWithWork(t *testing.T) {
	t0, ok := Process()
	if !ok {
		t.Skip("no process CPU clock on this system")
	}
	deadline := time.Now().Add(20 * time.Millisecond)
	x := 0
	for time.Now().Before(deadline) {
		x++
	}
	d := Since(t0)
	if d <= 0 {
		t.Fatalf("CPU time did not advance after a 20 ms spin (%d loops): %v", x, d)
	}
	if d > 10*time.Second {
		t.Fatalf("CPU time advanced %v during a 20 ms spin", d)
	}
}
