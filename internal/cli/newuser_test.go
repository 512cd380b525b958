package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scaleacross/scaleacross/spec"
)

// newUserJob is a small, valid training spec that the cases below edit.
const newUserJob = `model: llama3-8b
system: {gpu: h100-sxm, gpus: 8}
parallel: {tp: 8, pp: 1, dp: 1}
training: {seq_len: 4096, global_batch: 64, micro_batch: 1, precision: bf16, recompute: none}
`

// TestNewUserErrors checks what a new user sees for the mistakes of
// issue 13: each case names the command line, the exit code and a text
// the output must hold.
func TestNewUserErrors(t *testing.T) {
	job := func(old, new string) string { return writeSpec(t, strings.Replace(newUserJob, old, new, 1)) }
	good := writeSpec(t, newUserJob)
	small, err := os.ReadFile(smallPlan)
	if err != nil {
		t.Fatal(err)
	}
	planAlias := writeSpec(t, strings.Replace(string(small), "gpu: h100-sxm", "gpu: h100", 1))
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"misspelt field", []string{"simulate", "-f", job("global_batch", "globl_batch")}, 2, "did you mean global_batch?"},
		{"missing global_batch", []string{"simulate", "-f", job("global_batch: 64, ", "")}, 2, "training.global_batch: is required"},
		{"missing gpus", []string{"simulate", "-f", job("gpus: 8", "")}, 2, "system.gpus: is required"},
		{"gantt into a missing directory", []string{"simulate", "-f", good, "--gantt", "/missing/dir/x.svg"}, 2, "--gantt: directory /missing/dir does not exist"},
		{"trace into a missing directory", []string{"simulate", "-f", good, "--trace", "/missing/dir/x.json"}, 2, "--trace: directory /missing/dir does not exist"},
		{"infer plot into a missing directory", []string{"infer", "-f", "../../examples/serve-llama31-8b-eagle3.yaml", "--sweep", "batch=1,2", "--plot", "/missing/dir/x.svg"}, 2, "--plot: directory /missing/dir does not exist"},
		{"plan plot into a missing directory", []string{"plan", "-f", smallPlan, "--sweep", "distance=1,100", "--plot", "/missing/dir/x"}, 2, "--plot: directory /missing/dir does not exist"},
		{"serving spec to simulate", []string{"simulate", "-f", "../../examples/serve-maverick-eagle.yaml"}, 2, "this is a serving spec (it has workload: or speculative: and no training:): use scaleacross infer -f ../../examples/serve-maverick-eagle.yaml"},
		{"training spec to infer", []string{"infer", "-f", "../../examples/llama3-405b-16k.yaml"}, 2, "this is a training spec (it has training: and no workload:): use scaleacross simulate -f ../../examples/llama3-405b-16k.yaml"},
		{"JSON syntax error", []string{"simulate", "-f", writeSpec(t, "{\"model\": \"llama3-8b\",\n \"system\": {\"gpu\": \"h100-sxm\",, \"gpus\": 8}}\n")}, 2, "invalid JSON spec: line 2, column"},
		{"gpu alias in simulate", []string{"simulate", "-f", job("gpu: h100-sxm", "gpu: h100")}, 0, `system.gpu "h100" is an alias: h100-sxm`},
		{"gpu alias in plan", []string{"plan", "-f", planAlias, "--db", filepath.Join(t.TempDir(), "s.db"), "--top-k", "0"}, 0, `system.gpu "h100" is an alias: h100-sxm`},
		{"missing global_batch in plan", []string{"plan", "-f", writeSpec(t, strings.Replace(string(small), "  global_batch: 64\n", "", 1)), "--db", filepath.Join(t.TempDir(), "s.db")}, 2, "training.global_batch: is required"},
		{"validate help names the embedded set", []string{"validate", "--help"}, 0, "embedded in the binary from validate/training-measurements.csv"},
		{"validate help names the reference copy", []string{"validate", "--help"}, 0, "../shared/reference/training-measurements.csv"},
		{"negative top-k", []string{"plan", "-f", smallPlan, "--top-k", "-1"}, 2, "--top-k -1: want 0"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, code := run(t, tc.args...)
			if code != tc.code || !strings.Contains(out+errOut, tc.want) {
				t.Errorf("exit %d, output %q%q; want exit %d and %q", code, out, errOut, tc.code, tc.want)
			}
			if strings.Contains(out+errOut, ".tmp") {
				t.Errorf("output names a temporary file: %q", errOut)
			}
		})
	}
}

// TestTopKZero checks that --top-k 0 means no event re-ranking, and that
// an unset flag falls back to search.top_k or the default.
func TestTopKZero(t *testing.T) {
	three := 3
	withSearch := &spec.Job{Search: &spec.Search{TopK: &three}}
	tests := []struct {
		name string
		job  *spec.Job
		flag int
		set  bool
		want int
	}{
		{"zero given", &spec.Job{}, 0, true, -1},
		{"zero given over search", withSearch, 0, true, -1},
		{"unset", &spec.Job{}, 0, false, 8},
		{"unset with search", withSearch, 0, false, 3},
		{"given", withSearch, 5, true, 5},
	}
	for _, tc := range tests {
		if got := topKOf(tc.job, tc.flag, tc.set); got != tc.want {
			t.Errorf("%s: topKOf = %d, want %d", tc.name, got, tc.want)
		}
	}
}

// TestREADMECommandFlags checks that every flag the README's command
// table shows exists on the command it is shown with.
func TestREADMECommandFlags(t *testing.T) {
	data, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	root := newRootCmd()
	root.InitDefaultVersionFlag() // cobra adds --version when it runs
	checked := 0
	for _, line := range strings.Split(string(data), "\n") {
		if !strings.HasPrefix(line, "| `scaleacross") {
			continue
		}
		cells := strings.Split(line, "` |")
		for _, usage := range strings.Split(cells[0], "`, `") {
			usage = strings.Trim(strings.TrimPrefix(usage, "| "), "`")
			words := strings.Fields(usage)[1:]
			var path []string
			for _, w := range words {
				if w == "" || w[0] < 'a' || w[0] > 'z' || strings.Contains(w, `\|`) {
					break
				}
				path = append(path, w)
			}
			cmd, _, err := root.Find(path)
			if err != nil {
				t.Errorf("%q: no command %v: %v", usage, path, err)
				continue
			}
			for _, w := range words {
				w = strings.Trim(w, "[]")
				if !strings.HasPrefix(w, "--") {
					continue
				}
				name, _, _ := strings.Cut(strings.TrimPrefix(w, "--"), "=")
				if cmd.Flags().Lookup(name) == nil && cmd.InheritedFlags().Lookup(name) == nil && cmd.PersistentFlags().Lookup(name) == nil {
					t.Errorf("%q: %s has no flag --%s", usage, cmd.CommandPath(), name)
				}
				checked++
			}
		}
	}
	if checked < 10 {
		t.Errorf("checked %d flags of the README's command table; the parser lost it", checked)
	}
}
