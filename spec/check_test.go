package spec

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestHostileSpecs checks that type errors, fractions, non-finite numbers
// and oversized lists, strings and trees are refused with an *Error that
// names the field, quickly.
func TestHostileSpecs(t *testing.T) {
	if j, err := ParseJob([]byte(strings.Replace(goodJob, "tp: 8", "tp: 8.0", 1))); err != nil || j.Parallel.TP != 8 {
		t.Errorf("tp: 8.0 gives %v, %v; want 8", j, err)
	}
	merged := "model: llama3-8b\nsystem: {gpu: h100-sxm, gpus: 8}\nx-a: &a {tp: 2}\nx-b: &b {pp: 2}\nparallel: {<<: [*a, *b], dp: 2}\n"
	if _, err := ParseJob([]byte(merged)); err == nil || !strings.Contains(err.Error(), "x-a: unknown field") {
		t.Errorf("merge keys: %v, want only the unknown anchor fields refused", err)
	}
	merged = "model: llama3-8b\nsystem: {gpu: h100-sxm, gpus: 8}\nparallel: {<<: [{tp: 2}, {pp: 2}], dp: 2}\n"
	if j, err := ParseJob([]byte(merged)); err != nil || j.Parallel.TP != 2 || j.Parallel.PP != 2 {
		t.Errorf("merge keys: %+v, %v; want tp 2 pp 2", j, err)
	}
	job := func(old, new string) string { return strings.Replace(goodJob, old, new, 1) }
	longList := "[" + strings.Repeat("1, ", MaxListLen) + "1]"
	tests := []struct {
		name, text, want string
	}{
		{"fraction tp", job("tp: 8", "tp: 1.5"), "parallel.tp: must be a whole number, got 1.5"},
		{"fraction gpus", job("gpus: 16384", "gpus: 8.9"), "system.gpus: must be a whole number, got 8.9"},
		{"negative fraction", job("tp: 8", "tp: -0.5"), "parallel.tp: must be a whole number, got -0.5"},
		{"huge int", job("gpus: 16384", "gpus: 99999999999999999999999"), "system.gpus: 99999999999999999999999 is out of range"},
		{"int64 max", job("gpus: 16384", "gpus: 9223372036854775807"), "system.gpus: 9223372036854775807 is out of range"},
		{"inf int", job("gpus: 16384", "gpus: .inf"), "system.gpus: must be a whole number"},
		{"string for int", job("tp: 8", `tp: "8"`), `parallel.tp: must be a whole number, got the string "8"`},
		{"list for int", job("tp: 8", "tp: [8]"), "parallel.tp: must be a whole number, got a list"},
		{"inf stretch", job("distance_km: 5", "distance_km: 5, route_stretch: .inf"), "system.topology.levels[2].route_stretch: must be a finite number, got .inf"},
		{"nan bandwidth", job("bandwidth_gbps: 50", "bandwidth_gbps: .nan"), "system.topology.levels[2].bandwidth_gbps: must be a finite number"},
		{"overflowing float", job("distance_km: 5", "distance_km: 1e400"), "system.topology.levels[2].distance_km"},
		{"string for float", job("latency_us: 250", "latency_us: slow"), `system.topology.levels[2].latency_us: must be a number, got the string "slow"`},
		{"bool", job("sp: true", "sp: 1"), "parallel.sp: must be true or false, got the number 1"},
		{"mapping for string", job("model: llama3.1-405b", "model: {a: 1}"), "model: must be a string, got a mapping"},
		{"scalar for mapping", job("parallel: {tp: 8, pp: 16, vp: 1, cp: 1, ep: 1, dp: 128, sp: true, zero: 1}", "parallel: 8"), "parallel: must be a mapping of fields, got the number 8"},
		{"unknown nested field", job("latency_us: 250", "latency_us: 250, latncy: 3"), "system.topology.levels[2].latncy: unknown field; known fields here: algorithm, bandwidth_gbps"},
		{"misspelt field", job("global_batch: 2048", "globl_batch: 2048"), "training.globl_batch: unknown field (did you mean global_batch?); known fields here:"},
		{"far-off field", job("latency_us: 250", "latency_us: 250, zzzzzzzz: 3"), "system.topology.levels[2].zzzzzzzz: unknown field; known fields here:"},
		{"long search list", goodJob + "search: {tp: " + longList + "}\n", "search.tp: has 4097 entries, over the limit of 4096"},
		{"long string", job("model: llama3.1-405b", "model: "+strings.Repeat("x", MaxStringLen+1)), "model: is 4097 bytes long, over the limit of 4096"},
		{"not a mapping", "- 1\n- 2\n", "the spec must be a mapping of fields, got a list"},
		{"alias bomb", goodJob + "search: {placements: [&p [" + strings.Repeat("tp, ", MaxListLen-1) + "tp]" + strings.Repeat(", *p", MaxListLen-1) + "]}\n", "more than 200000 YAML nodes"},
		{"deep nesting", "model: " + strings.Repeat("[", 20000) + strings.Repeat("]", 20000), "invalid spec"},
		{"binary", "\x00\x01\x02\xff\xfe", "invalid spec"},
		{"too large", "model: x\n" + strings.Repeat("#", MaxFileBytes), "over the 1048576-byte limit"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t0 := time.Now()
			_, err := ParseJob([]byte(tc.text))
			if d := time.Since(t0); d > 2*time.Second {
				t.Errorf("took %v", d)
			}
			var se *Error
			if !errors.As(err, &se) {
				t.Fatalf("got %v, want an *Error", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%q does not contain %q", err, tc.want)
			}
		})
	}
}

// TestHostileServeSpecs checks the serving spec's bounds and tree limits.
func TestHostileServeSpecs(t *testing.T) {
	base := "model: llama3-8b\nsystem: {gpu: h100-sxm, gpus: 8}\nworkload: {batch: 1, input_len: 1000, output_len: 100}\n"
	chain := "["
	for i := range MaxTreeDepth + 1 {
		if i > 0 {
			chain += ", "
		}
		chain += "[" + strings.TrimSuffix(strings.Repeat("0, ", i+1), ", ") + "]"
	}
	chain += "]"
	tests := []struct{ name, text, want string }{
		{"input_len int64", strings.Replace(base, "input_len: 1000", "input_len: 9223372036854775000", 1), "workload.input_len: 9223372036854775000 is out of range"},
		{"input_len huge", strings.Replace(base, "input_len: 1000", "input_len: 2000000000", 1), "workload.input_len: 2000000000 is over the limit of 16777216"},
		{"batch fraction", strings.Replace(base, "batch: 1", "batch: 1.5", 1), "workload.batch: must be a whole number, got 1.5"},
		{"acceptance inf", base + "speculative: {method: eagle, acceptance: [.inf]}\n", "speculative.acceptance[0]: must be a finite number"},
		{"deep chain", base + "speculative: {method: eagle, tree: " + chain + "}\n", "is 65 deep, over the limit of 64"},
		{"tree fraction", base + "speculative: {method: eagle, tree: [[0.5]]}\n", "speculative.tree[0][0]: must be a whole number, got 0.5"},
		{"tree of mappings", base + "speculative: {method: eagle, tree: [{a: 1}]}\n", "speculative.tree[0]: must be a path"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseServe([]byte(tc.text))
			var se *Error
			if !errors.As(err, &se) {
				t.Fatalf("got %v, want an *Error", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%q does not contain %q", err, tc.want)
			}
		})
	}
}

// TestReadFileRefuses checks that directories, devices, FIFOs and files
// over the limit are refused at once, without reading them.
func TestReadFileRefuses(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "big.yaml")
	if err := os.WriteFile(big, make([]byte, MaxFileBytes+1), 0o644); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skipf("no FIFOs here: %v", err)
	}
	tests := []struct{ name, path, want string }{
		{"directory", dir, "it is a directory"},
		{"dev zero", "/dev/zero", "not a regular file"},
		{"fifo", fifo, "not a regular file"},
		{"too large", big, "over the 1048576-byte limit"},
		{"missing", filepath.Join(dir, "none.yaml"), "no such file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := os.Stat(tc.path); tc.name == "dev zero" && err != nil {
				t.Skip("no /dev/zero")
			}
			t0 := time.Now()
			_, err := ReadFile(tc.path)
			if d := time.Since(t0); d > time.Second {
				t.Errorf("took %v", d)
			}
			var se *Error
			if !errors.As(err, &se) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an *Error containing %q", err, tc.want)
			}
		})
	}
}
