package spec

import (
	"errors"
	"strings"
	"testing"
)

const goodJob = `
model: llama3.1-405b
system:
  gpu: h100-sxm
  gpus: 16384
  topology:
    levels:
      - {name: node, size: 8, bandwidth_gbps: 3600, latency_us: 1}
      - {name: zone, size: 1024, bandwidth_gbps: 400, latency_us: 10}
      - {name: building, size: 2, bandwidth_gbps: 50, latency_us: 250, distance_km: 5}
parallel: {tp: 8, pp: 16, vp: 1, cp: 1, ep: 1, dp: 128, sp: true, zero: 1}
schedule: interleaved-1f1b
training: {seq_len: 8192, global_batch: 2048, micro_batch: 1, precision: bf16, recompute: none}
`

func TestParseJob(t *testing.T) {
	j, err := ParseJob([]byte(goodJob))
	if err != nil {
		t.Fatal(err)
	}
	if j.Model != "llama3.1-405b" || j.System.GPUs != 16384 || j.Parallel.TP != 8 || *j.Parallel.Zero != 1 ||
		len(j.System.Topology.Levels) != 3 || j.System.Topology.Levels[2].DistanceKm != 5 {
		t.Errorf("decoded %+v", j)
	}
	// JSON is YAML too.
	if _, err := ParseJob([]byte(`{"model": "llama3-8b", "system": {"gpu": "h100-sxm", "gpus": 8}}`)); err != nil {
		t.Errorf("JSON spec: %v", err)
	}
}

func TestParseJobBadInput(t *testing.T) {
	tests := map[string]struct{ text, want string }{
		"malformed":     {"model: [unclosed", "invalid spec"},
		"unknown field": {strings.Replace(goodJob, "seq_len", "seqlen", 1), "seqlen"},
		"wrong type":    {strings.Replace(goodJob, "gpus: 16384", "gpus: many", 1), "system.gpus: must be a whole number"},
		"empty":         {"", "empty"},
		"two documents": {goodJob + "\n---\nmodel: x\n", "exactly one"},
	}
	for name, tt := range tests {
		_, err := ParseJob([]byte(tt.text))
		if err == nil {
			t.Errorf("%s: no error", name)
			continue
		}
		var se *Error
		if !errors.As(err, &se) {
			t.Errorf("%s: %v is not a bad-input error", name, err)
		}
		if !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %q does not mention %q", name, err, tt.want)
		}
	}
}

// FuzzParseJob checks that no input makes the loader panic.
func FuzzParseJob(f *testing.F) {
	f.Add([]byte(goodJob))
	f.Add([]byte(`{"model": "x", "parallel": {"tp": -1}}`))
	f.Add([]byte("model: &a [*a]"))
	// The hostile cases of issue 12: fractions, non-finite and huge
	// numbers, deep and aliased YAML, long lists and strings.
	for _, edit := range [][2]string{
		{"tp: 8", "tp: 1.5"}, {"gpus: 16384", "gpus: 8.9"}, {"tp: 8", "tp: -0.5"}, {"gpus: 16384", "gpus: 9223372036854775807"},
		{"distance_km: 5", "distance_km: 1e308, route_stretch: .inf"}, {"bandwidth_gbps: 50", "bandwidth_gbps: 1e-300"},
		{"latency_us: 250", "latency_us: .nan"}, {"size: 1024", "size: 2147483647"}, {"sp: true", "sp: 1"},
		{"model: llama3.1-405b", "model: " + strings.Repeat("x", 5000)}, {"schedule: interleaved-1f1b", "schedule: [a]"},
	} {
		f.Add([]byte(strings.Replace(goodJob, edit[0], edit[1], 1)))
	}
	f.Add([]byte(goodJob + "search: {tp: [" + strings.Repeat("1, ", 5000) + "1]}\n"))
	f.Add([]byte("a: &a [1, 1]\nb: &b [*a, *a]\nc: [*b, *b]\n"))
	f.Add([]byte("model: " + strings.Repeat("[", 5000)))
	f.Add([]byte("\x7fELF\x00\x01\xff"))
	f.Fuzz(func(t *testing.T, data []byte) {
		j, err := ParseJob(data)
		if err == nil && j == nil {
			t.Fatal("nil job without error")
		}
	})
}

// TestYAMLErrorLines checks that a syntax error names the line a reader
// sees: an unclosed { or [ the line it opened on (the parser counts that
// one from 0), other errors the parser's line.
func TestYAMLErrorLines(t *testing.T) {
	for _, tc := range []struct{ spec, want string }{
		{"model: x\nsystem: {gpu: h100-sxm, gpus: 8\ntraining: {seq_len: 4096}\n", "line 2: the { opened on this line is not closed"},
		{"model: x\nschedule: 1f1b\nsystem: {gpu: h100-sxm, gpus: 8\n", "line 3: the { opened"},
		{"model: x\nschedule: [1f1b\nsystem: {gpu: h100-sxm}\n", "line 2: the [ opened"},
		{"model: x\nsystem:\n  gpu: h100-sxm\n   gpus: 8\n", "line 4: mapping values are not allowed"},
	} {
		_, err := ParseJob([]byte(tc.spec))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want %q", tc.spec, err, tc.want)
		}
	}
}
