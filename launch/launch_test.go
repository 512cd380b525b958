package launch

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/scaleacross/scaleacross/fault"
	"github.com/scaleacross/scaleacross/hardware"
	goldenfile "github.com/scaleacross/scaleacross/internal/golden"
	"github.com/scaleacross/scaleacross/model"
	"github.com/scaleacross/scaleacross/spec"
	"github.com/scaleacross/scaleacross/train"
)

// update rewrites the golden files: go test ./launch -update.
var update = flag.Bool("update", false, "rewrite golden files")

func resolve(t *testing.T, path string) *train.Config {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	j, err := spec.ParseJob(data)
	if err != nil {
		t.Fatal(err)
	}
	c, err := train.Resolve(j, model.Load, hardware.Lookup)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestGoldens renders every framework for a dense job with an uneven
// (embedding- and loss-balanced) interleaved split and a MoE job in FP8.
func TestGoldens(t *testing.T) {
	for _, job := range []struct{ name, path string }{
		{"llama3-405b", "../examples/llama3-405b-16k.yaml"},
		{"two-regions", "../examples/two-regions.yaml"},
		{"moe", "testdata/moe.yaml"},
	} {
		c := resolve(t, job.path)
		for _, fw := range Frameworks() {
			t.Run(job.name+"/"+fw, func(t *testing.T) {
				text, err := Write(fw, job.name, c)
				if err != nil {
					t.Fatal(err)
				}
				goldenfile.Check(t, filepath.Join("testdata", job.name+"."+fw+".golden"), []byte(text), *update)
			})
		}
	}
}

// TestMegatronArguments checks the arguments a Megatron-LM user looks for,
// by name as in Megatron-LM's arguments.py, against the configuration.
func TestMegatronArguments(t *testing.T) {
	c := resolve(t, "testdata/moe.yaml")
	text, err := Write("megatron", "moe", c)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"--tensor-model-parallel-size 2", "--sequence-parallel", "--pipeline-model-parallel-size 2",
		"--num-virtual-stages-per-pipeline-rank 2", "--expert-model-parallel-size 8", "--expert-tensor-parallel-size 2",
		"--num-experts 128", "--moe-router-topk 8", "--use-distributed-optimizer", "--micro-batch-size 1",
		"--global-batch-size 256", "--seq-length 4096", "--recompute-granularity selective", "--fp8-format hybrid",
		"--num-query-groups 4", "export CUDA_DEVICE_MAX_CONNECTIONS=1",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("megatron arguments lack %q:\n%s", want, text)
		}
	}
	// The rank order is always stated: pp inside dp needs Megatron's
	// tp-pp-dp mapping, dp inside pp is its default.
	order := rankOrder(c)
	wantFlag := isOrder(order, "tp", "cp", "ep", "pp", "dp") && !isOrder(order, "tp", "cp", "ep", "dp", "pp")
	if got := strings.Contains(text, "--use-tp-pp-dp-mapping"); got != wantFlag {
		t.Errorf("rank order %s: --use-tp-pp-dp-mapping present %v, want %v:\n%s", order, got, wantFlag, text)
	}
}

func TestUnknownFramework(t *testing.T) {
	_, err := Write("deepspeed", "x", resolve(t, "testdata/moe.yaml"))
	var fe *fault.FieldError
	if !errors.As(err, &fe) || fe.Field != "--emit" || !strings.Contains(err.Error(), "megatron-bridge") {
		t.Errorf("error %v, want a --emit error listing the frameworks", err)
	}
}

// TestEmitsThePricedChunkGroup checks that the chunk group size printed
// for Megatron-LM is the one both engines priced: the latency-aware plan
// widens it beyond pp over a slow boundary.
func TestEmitsThePricedChunkGroup(t *testing.T) {
	j, err := spec.ParseJob([]byte(`model: llama3.1-8b
system:
  gpu: h100-sxm
  gpus: 64
  topology:
    levels:
      - {name: node, size: 8, bandwidth_gbps: 3600, latency_us: 1}
      - {name: zone, size: 4, bandwidth_gbps: 400, latency_us: 5}
      - {name: building, size: 2, bandwidth_gbps: 400, latency_us: 20, distance_km: 3000, link_capacity_gbps: 800}
cross_site: pp
parallel: {tp: 1, pp: 4, vp: 2, dp: 16}
schedule: latency-aware-1f1b
training: {seq_len: 4096, global_batch: 256, micro_batch: 1, precision: bf16, recompute: full}
`))
	if err != nil {
		t.Fatal(err)
	}
	c, err := train.Resolve(j, model.Load, hardware.Lookup)
	if err != nil {
		t.Fatal(err)
	}
	sp, err := train.ScheduleParams(c)
	if err != nil {
		t.Fatal(err)
	}
	if sp.Consecutive <= c.Parallel.PP {
		t.Fatalf("the latency-aware plan keeps depth-first groups (%d); the test needs a widened one", sp.Consecutive)
	}
	text, err := Write("megatron", "x", c)
	if err != nil {
		t.Fatal(err)
	}
	want := "--microbatch-group-size-per-virtual-pipeline-stage " + strconv.Itoa(sp.Consecutive)
	if !strings.Contains(text, want) {
		t.Errorf("megatron arguments lack %q (the priced group):\n%s", want, text)
	}
}
