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
	f.Fuzz(func(t *testing.T, data []byte) {
		j, err := ParseJob(data)
		if err == nil && j == nil {
			t.Fatal("nil job without error")
		}
	})
}
