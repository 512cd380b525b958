package explore

import "github.com/scaleacross/scaleacross/spec"

// DefaultScenarioYAML is the job `scaleacross plan` searches when no file
// is given: a Llama 4 Behemoth-class MoE on about 100K H100 in three
// buildings of one campus, trained in FP8. Every figure not published for
// Behemoth or for Meta's campus is an assumption, stated in the comments
// and echoed in the plan's output.
const DefaultScenarioYAML = `# Built-in scale-across scenario (scaleacross plan with no file).
# Llama 4 Behemoth-class MoE (catalog llama4-behemoth: 288B active of ~2T,
# 16 experts; dimensions beyond those are assumed) on 98,304 H100 in three
# buildings of 32,768 GPUs on one campus, FP8 (Meta trained Behemoth in
# FP8 on 32K GPUs, Llama 4 announcement, April 2025).
model: llama4-behemoth
system:
  gpu: h100-sxm
  gpus: 98304
  topology:
    levels:
      # HGX H100: 8 GPUs on NVSwitch, NVLink 4 at 450 GB/s per direction.
      - {name: node, size: 8, bandwidth_gbps: 3600, latency_us: 1}
      # AI zone of 4,096 GPUs on a full-bisection two-tier Clos, one
      # 400 Gb/s NIC per GPU (Meta AI zones hold 2K-4K GPUs).
      - {name: zone, size: 512, bandwidth_gbps: 400, latency_us: 5}
      # 8 zones per building, 1:7 oversubscribed between zones (Llama 3
      # 24K cluster, arXiv 2407.21783 section 3.3.1).
      - {name: building, size: 8, bandwidth_gbps: 400, latency_us: 10, oversubscription: 7}
      # 3 buildings about 2 km apart (assumed), each with a trunk of
      # 2,900 Tb/s: its 32,768 x 400 Gb/s NICs at the ~4.5:1
      # oversubscription Meta describes into the top tier of Prometheus.
      - {name: campus, size: 3, bandwidth_gbps: 400, latency_us: 20, distance_km: 2, link_capacity_gbps: 2900000}
training:
  seq_len: 8192
  # Assumed: 12,288 sequences (~100M tokens) per step, divisible by the
  # data-parallel degrees a 3-building job uses.
  global_batch: 12288
  precision: fp8
`

// DefaultScenario parses DefaultScenarioYAML.
func DefaultScenario() (*spec.Job, error) {
	return spec.ParseJob([]byte(DefaultScenarioYAML))
}
