package explore

import (
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/scaleacross/scaleacross/hardware"
	"github.com/scaleacross/scaleacross/model"
	"github.com/scaleacross/scaleacross/spec"
	"github.com/scaleacross/scaleacross/train"
)

// TestPlanAgreesWithSimulate checks that the plan never says what
// simulate would contradict: its best and both baselines, turned back
// into job specs (JobFor) and resolved as simulate resolves them, give the
// same step time with the engine the plan names, the same memory and a
// fit; and the best is rank 1 of the plan's own top list.
func TestPlanAgreesWithSimulate(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*spec.Job)
	}{
		{"event re-rank", nil},
		{"analytic only", func(j *spec.Job) { k := 0; j.Search.TopK = &k }},
		{"moe", func(j *spec.Job) {
			j.Model = "qwen3-30b-a3b"
			j.Search.TP = []int{1, 2, 4, 8} // 4 KV heads: tp8 must never come back
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, sp := loadSmall(t, tc.edit)
			p := plan(t, b, sp, &Options{Workers: 2, Rerank: train.Event, RerankEngine: train.EngineEvent})
			if p.Best == nil || len(p.Top) == 0 {
				t.Fatalf("no best plan: %+v", p.Notes)
			}
			if p.Top[0].StepTimeS != p.Best.StepTimeS || p.Top[0].Engine != p.Best.Engine || p.Top[0].Config != p.Best.Candidate.String() {
				t.Errorf("best %s (%.6f s, %s) is not rank 1 of the top list: %+v", p.Best.Candidate, p.Best.StepTimeS, p.Best.Engine, p.Top[0])
			}
			// The Pareto front ranks by the same final times: it starts at
			// the best, never below it.
			if len(p.Pareto) == 0 || p.Pareto[0].StepTimeS < p.Best.StepTimeS || (p.Best.Space == ExplorerSpace && p.Pareto[0].StepTimeS != p.Best.StepTimeS) {
				t.Errorf("Pareto front starts at %+v; the best is %.6f s", p.Pareto[0], p.Best.StepTimeS)
			}
			for i := 1; i < len(p.Top); i++ {
				if p.Top[i].StepTimeS < p.Top[i-1].StepTimeS {
					t.Errorf("top list out of order at rank %d: %.6f s after %.6f s", i+1, p.Top[i].StepTimeS, p.Top[i-1].StepTimeS)
				}
			}
			for name, c := range map[string]*Choice{"best": p.Best, "production": p.Baselines.Production, "prior art": p.Baselines.PriorArt} {
				if c == nil {
					continue
				}
				cfg, err := train.Resolve(b.JobFor(c.Candidate), model.Load, hardware.Lookup)
				if err != nil {
					t.Errorf("%s %s: simulate refuses it: %v", name, c.Candidate, err)
					continue
				}
				run := train.Analytic
				if c.Engine == train.EngineEvent {
					run = train.Event
				}
				r, err := run(cfg)
				if err != nil {
					t.Errorf("%s %s: %v", name, c.Candidate, err)
					continue
				}
				if math.Abs(r.StepTimeS-c.StepTimeS) > 1e-9*c.StepTimeS || math.Abs(r.MemoryGiBPerGPU-c.MemoryGiBPerGPU) > 1e-9 || !r.Feasible {
					t.Errorf("%s %s: plan says %.6f s, %.3f GiB; simulate (%s) says %.6f s, %.3f GiB, fits %v",
						name, c.Candidate, c.StepTimeS, c.MemoryGiBPerGPU, c.Engine, r.StepTimeS, r.MemoryGiBPerGPU, r.Feasible)
				}
				if c.Candidate.TP > 1 && b.Template.Model.KVHeads%c.Candidate.TP != 0 {
					t.Errorf("%s: tp%d does not divide the %d KV heads", name, c.Candidate.TP, b.Template.Model.KVHeads)
				}
			}
		})
	}
}

// plan searches on the topology simulate runs: both resolve the system
// through train.ResolveSystem, so a job without system.topology gets the
// same default (on GB200, Megatron-Bridge's NVLink segments; before, the
// Explorer took one 72-GPU domain where simulate took 64-GPU segments)
// and the same assumption, and a network section the same site transport.
func TestPlanAndSimulateResolveOneSystem(t *testing.T) {
	for _, y := range []string{
		"model: qwen3-235b-a22b\nsystem: {gpu: gb200, gpus: 256}\nparallel: {tp: 1, pp: 8, vp: 3, ep: 32}\ntraining: {seq_len: 4096, global_batch: 1024}\n",
		"model: llama3-8b\nsystem: {gpu: h100-sxm, gpus: 64}\ntraining: {seq_len: 4096, global_batch: 256}\n",
		"model: llama3-8b\nsystem:\n  gpu: h100-sxm\n  gpus: 64\n  topology:\n    levels:\n      - {name: node, size: 8, bandwidth_gbps: 3600, latency_us: 1}\n      - {name: region, size: 8, bandwidth_gbps: 100, latency_us: 5000, distance_km: 1000}\nnetwork: {transport: tcp}\ntraining: {seq_len: 4096, global_batch: 256}\n",
	} {
		j, err := spec.ParseJob([]byte(y))
		if err != nil {
			t.Fatal(err)
		}
		c, err := train.Resolve(j, model.Load, hardware.Lookup)
		if err != nil {
			t.Fatalf("simulate: %v\n%s", err, y)
		}
		b, err := Resolve(j, model.Load, hardware.Lookup)
		if err != nil {
			t.Fatalf("plan: %v\n%s", err, y)
		}
		if diff := cmp.Diff(c.Topology, b.Template.Topology); diff != "" {
			t.Errorf("%s: topologies differ (-simulate +plan):\n%s", j.Model, diff)
		}
		for _, a := range b.Assumptions {
			if strings.HasPrefix(a, "system.topology") && !slices.Contains(c.Assumptions, a) {
				t.Errorf("%s: plan assumes %q, simulate does not", j.Model, a)
			}
		}
	}
}
