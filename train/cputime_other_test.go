//go:build !unix

package train_test

// processCPUSeconds reports no CPU clock where getrusage is missing; the
// benchmarks then check their budgets against wall time.
func processCPUSeconds() (float64, bool) { return 0, false }
