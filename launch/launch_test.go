package launch

import (
	"errors"
	"flag"
	"fmt"
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
		{"deepseek-v3", "testdata/deepseek.yaml"},
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

// TestPipelineLayout checks that the split both engines price reaches
// Megatron-LM and Megatron-Bridge: a layout for a user's layout (in
// canonical form), for parallel.layers_per_stage and for the default
// uneven split, and no layout (the account-for flags, or nothing) where
// the split is even or one layer fewer on the edges. With a layout,
// --num-virtual-stages-per-pipeline-rank is left out, as Megatron-LM
// refuses both.
func TestPipelineLayout(t *testing.T) {
	base := "model: %s\nsystem: {gpu: h100-sxm, gpus: %d}\nparallel: {%s}\nschedule: interleaved-1f1b\ntraining: {seq_len: 4096, global_batch: 1024, micro_batch: 1, precision: bf16}\n"
	tests := []struct {
		name, model string
		gpus        int
		par, want   string
		edge        bool
	}{
		{"default uneven", "deepseek-v3", 1024, "tp: 2, pp: 8, vp: 4, ep: 64, etp: 1", "Et|(tt|)*30mL", false},
		{"user layout", "deepseek-v3", 1024, "tp: 2, pp: 8, ep: 64, etp: 1, pipeline_layout: 'E t | (t t|)*30, m L'", "Et|(tt|)*30mL", false},
		{"layers per stage", "llama3.1-8b", 16, "tp: 1, pp: 4, vp: 1, layers_per_stage: [7, 9, 9, 7]", "Et*7|(t*9|)*2t*7L", false},
		{"edge fewer", "llama3.1-405b", 1024, "tp: 8, pp: 16, vp: 1", "", true},
		{"even", "llama3.1-8b", 16, "tp: 1, pp: 4, vp: 2", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j, err := spec.ParseJob([]byte(fmt.Sprintf(base, tt.model, tt.gpus, tt.par)))
			if err != nil {
				t.Fatal(err)
			}
			c, err := train.Resolve(j, model.Load, hardware.Lookup)
			if err != nil {
				t.Fatal(err)
			}
			mg, err := Write("megatron", tt.name, c)
			if err != nil {
				t.Fatal(err)
			}
			br, err := Write("megatron-bridge", tt.name, c)
			if err != nil {
				t.Fatal(err)
			}
			if tt.want != "" {
				if !strings.Contains(mg, "--pipeline-model-parallel-layout '"+tt.want+"'") {
					t.Errorf("megatron lacks the layout %q:\n%s", tt.want, mg)
				}
				if !strings.Contains(br, `'model.pipeline_model_parallel_layout="`+tt.want+`"'`) {
					t.Errorf("megatron-bridge lacks the layout %q:\n%s", tt.want, br)
				}
				if strings.Contains(mg, "--num-virtual-stages-per-pipeline-rank") || strings.Contains(mg, "--account-for-") {
					t.Errorf("megatron gives the layout with vp or account-for flags, which Megatron-LM refuses:\n%s", mg)
				}
			} else if strings.Contains(mg, "pipeline-model-parallel-layout") || strings.Contains(br, "pipeline_model_parallel_layout") {
				t.Errorf("a layout for a split that needs none:\n%s\n%s", mg, br)
			}
			if got := strings.Contains(mg, "--account-for-embedding-in-pipeline-split"); got != tt.edge {
				t.Errorf("account-for flags present %v, want %v:\n%s", got, tt.edge, mg)
			}
			if got := strings.Contains(br, "model.account_for_embedding_in_pipeline_split=true"); got != tt.edge {
				t.Errorf("bridge account-for flags present %v, want %v:\n%s", got, tt.edge, br)
			}
		})
	}
}

// The Megatron-LM arguments and Megatron-Bridge overrides run the MoE dispatcher and permute kernels
// that simulate priced: training.moe_dispatcher picks the dispatcher type,
// and the permute fusion (Megatron-LM's default off, the spec's default
// on) is asked for exactly when it was priced.
func TestMegatronWritesThePricedDispatcher(t *testing.T) {
	data, err := os.ReadFile("testdata/moe.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range []struct {
		fields   string
		dispatch string
		fusion   bool
	}{
		{"", "--moe-token-dispatcher-type alltoall", true},
		{", moe_dispatcher: deepep", "--moe-token-dispatcher-type flex", true},
		{", moe_dispatcher: hybridep, moe_permute_fusion: false", "--moe-token-dispatcher-type flex", false},
		{", moe_dispatcher: torch, moe_permute_fusion: true", "--moe-token-dispatcher-type alltoall", true},
	} {
		y := strings.Replace(string(data), "recompute: selective}", "recompute: selective"+x.fields+"}", 1)
		j, err := spec.ParseJob([]byte(y))
		if err != nil {
			t.Fatal(err)
		}
		c, err := train.Resolve(j, model.Load, hardware.Lookup)
		if err != nil {
			t.Fatal(err)
		}
		text, err := Write("megatron", "moe", c)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(text, x.dispatch+" ") {
			t.Errorf("%q: arguments lack %q:\n%s", x.fields, x.dispatch, text)
		}
		if got := strings.Contains(text, "--moe-permute-fusion "); got != x.fusion {
			t.Errorf("%q: --moe-permute-fusion present %v, want %v (unfused priced %v)", x.fields, got, x.fusion, c.UnfusedPermute)
		}
		text, err = Write("megatron-bridge", "moe", c)
		if err != nil {
			t.Fatal(err)
		}
		typ := strings.TrimPrefix(x.dispatch, "--moe-token-dispatcher-type ")
		for _, want := range []string{"model.moe_token_dispatcher_type=" + typ + " ", fmt.Sprintf("model.moe_permute_fusion=%t ", x.fusion)} {
			if !strings.Contains(text, want) {
				t.Errorf("%q: Megatron-Bridge overrides lack %q:\n%s", x.fields, want, text)
			}
		}
	}
}
