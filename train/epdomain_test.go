package train

import (
	"strings"
	"testing"
)

// An ep group beyond the NVLink domain is not refused: Megatron-Core's
// alltoall dispatcher, the one priced and launched, runs it (no framework
// forbids it there). The resolver says under assumed what crosses the
// NICs, and which flex dispatchers would refuse the group; a group inside
// the domain gets no note.
func TestEPDomainNote(t *testing.T) {
	tests := []struct {
		name, job string
		want      []string // substrings of the note; nil: no note
	}{
		{"DeepSeek-V3 on 1,024 H100", `model: deepseek-v3
system: {gpu: h100-sxm, gpus: 1024}
parallel: {tp: 2, pp: 8, vp: 4, ep: 64, etp: 1}
training: {seq_len: 4096, global_batch: 8192, precision: fp8}
`, []string{"ep=64 spans 8 node units of 8 GPUs", "7/8 of each GPU's dispatched tokens cross cluster at 400 Gb/s", "HybridEP also run it"}},
		{"Qwen3-235B on 256 GB200 stays in its 64-GPU segment", `model: qwen3-235b-a22b
system: {gpu: gb200, gpus: 256}
parallel: {tp: 1, pp: 8, vp: 3, ep: 32}
training: {seq_len: 4096, global_batch: 1024, precision: bf16}
`, nil},
		{"ep on 4-GPU nodes", `model: qwen3-30b-a3b
system:
  gpu: h100-sxm
  gpus: 64
  topology:
    levels:
      - {name: node, size: 4, bandwidth_gbps: 3600, latency_us: 1}
      - {name: cluster, size: 16, bandwidth_gbps: 400, latency_us: 5}
parallel: {tp: 1, pp: 1, ep: 16}
training: {seq_len: 4096, global_batch: 64, precision: bf16}
`, []string{"ep=16 spans 4 node units of 4 GPUs", "3/4", "would refuse it: DeepEP's normal kernels"}},
		{"ep 128 on GB200", `model: deepseek-v3
system: {gpu: gb200, gpus: 1024}
parallel: {tp: 1, pp: 8, ep: 128}
training: {seq_len: 4096, global_batch: 1024, precision: bf16}
`, []string{"ep=128 spans 2 node units of 64 GPUs", "1/2", "HybridEP (ep at most 72 on NVL72)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := resolve(t, tt.job) // fails the test if the group is refused
			var note string
			for _, a := range c.Assumptions {
				if strings.Contains(a, "leaves the NVLink domain") {
					note = a
				}
			}
			if tt.want == nil {
				if note != "" {
					t.Errorf("a note for a group inside the domain: %s", note)
				}
				return
			}
			if note == "" {
				t.Fatalf("no note; assumed: %q", c.Assumptions)
			}
			for _, w := range tt.want {
				if !strings.Contains(note, w) {
					t.Errorf("note lacks %q:\n%s", w, note)
				}
			}
		})
	}
}
