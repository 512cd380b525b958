package cli

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestHelperMain runs the command line in a child process for the signal
// test; it does nothing in a normal test run.
func TestHelperMain(t *testing.T) {
	if os.Getenv("SCALEACROSS_HELPER") != "1" {
		t.Skip("helper process only")
	}
	args := os.Args
	for i, a := range args {
		if a == "--" {
			args = args[i+1:]
			break
		}
	}
	os.Exit(Main(args, os.Stdout, os.Stderr))
}

// TestSIGTERMLeavesNoTemporaryFile sends SIGTERM to simulate --trace while
// it writes the trace: the process exits 143 and leaves the trace either
// complete or absent, with no hidden temporary file.
func TestSIGTERMLeavesNoTemporaryFile(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a child process for a few seconds")
	}
	dir := t.TempDir()
	job := filepath.Join(dir, "job.yaml")
	if err := os.WriteFile(job, []byte(`model: llama3-8b
system: {gpu: h100-sxm, gpus: 64}
parallel: {tp: 8, pp: 8, vp: 4, dp: 1}
schedule: interleaved-1f1b
training: {seq_len: 4096, global_batch: 2000, micro_batch: 1}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	trace := filepath.Join(dir, "t.json")
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperMain$", "--", "simulate", "-f", job, "--trace", trace)
	cmd.Env = append(os.Environ(), "SCALEACROSS_HELPER=1")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Wait for the temporary file to appear, then stop the process.
	sawTemp := false
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if m, _ := filepath.Glob(filepath.Join(dir, ".t.json.tmp*")); len(m) > 0 {
			sawTemp = true
			break
		}
		time.Sleep(time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		t.Fatal(err)
	}
	err := cmd.Wait()
	var ee *exec.ExitError
	switch {
	case sawTemp && (!errors.As(err, &ee) || ee.ExitCode() != 128+int(syscall.SIGTERM)):
		t.Errorf("after SIGTERM: %v, want exit %d", err, 128+int(syscall.SIGTERM))
	case !sawTemp:
		t.Logf("the trace was written before the signal (%v); checking the leftovers only", err)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			t.Errorf("leftover temporary file %s", e.Name())
		}
		if e.Name() == "t.json" {
			data, _ := os.ReadFile(trace)
			if !strings.HasSuffix(strings.TrimSpace(string(data)), "}") && !strings.HasSuffix(strings.TrimSpace(string(data)), "]") {
				t.Errorf("t.json is truncated (%d bytes)", len(data))
			}
		}
	}
}
