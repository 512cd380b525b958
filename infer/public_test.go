package infer

import (
	"encoding/csv"
	"math"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/scaleacross/scaleacross/hardware"
	"github.com/scaleacross/scaleacross/model"
	"github.com/scaleacross/scaleacross/specdec"
)

// publicMAPEBound is the time-per-token MAPE measured on
// testdata/serving-public.csv (25.4%, rounded up; 30.8% before expert
// weights streamed at MoEHBM), kept as a regression bound. Issue 15 asks
// for 10%; the batch-1 MoE rows of Qwen3-30B-A3B (-30%) and DeepSeek-R1
// AWQ (-59%) hold it up.
const publicMAPEBound = 0.26

// publicRow is one row of testdata/serving-public.csv.
type publicRow struct {
	id, engine, model, gpu, precision, spec string
	gpus, tp, ep, batch, in, out            int
	ttit                                    float64
}

func readPublic(t *testing.T) []publicRow {
	t.Helper()
	f, err := os.Open("testdata/serving-public.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	atoi := func(r []string, c string) int {
		n, err := strconv.Atoi(r[col[c]])
		if err != nil {
			t.Fatalf("%s: %s: %v", r[0], c, err)
		}
		return n
	}
	var out []publicRow
	for _, r := range rows[1:] {
		if r[col["source"]] == "" {
			t.Fatalf("%s has no source", r[0])
		}
		v, err := strconv.ParseFloat(r[col["ttit_ms"]], 64)
		if err != nil {
			t.Fatalf("%s: ttit_ms: %v", r[0], err)
		}
		out = append(out, publicRow{id: r[0], engine: r[col["engine"]], model: r[col["model"]], gpu: r[col["gpu"]],
			precision: r[col["precision"]], spec: r[col["speculative"]], gpus: atoi(r, "gpus"), tp: atoi(r, "tp"),
			ep: atoi(r, "ep"), batch: atoi(r, "batch"), in: atoi(r, "input_len"), out: atoi(r, "output_len"), ttit: v})
	}
	return out
}

// predictPublic prices one row: the engine's profile, the row's layout
// and, for speculative rows ("eagle auto", "eagle3 auto"), the method's
// default acceptance with the automatic tree.
func predictPublic(t *testing.T, r publicRow) float64 {
	t.Helper()
	m, err := model.Lookup(r.model)
	if err != nil {
		t.Fatal(err)
	}
	g, err := hardware.Lookup(r.gpu)
	if err != nil {
		t.Fatal(err)
	}
	eff, err := EngineProfile(r.engine)
	if err != nil {
		t.Fatal(err)
	}
	c := &Config{Model: m, GPU: g, GPUs: r.gpus, TP: r.tp, EP: r.ep, Weights: hardware.Precision(r.precision),
		KV: hardware.BF16, Activations: hardware.BF16, CUDAGraphs: true, Eff: eff}
	var s *Speculative
	if r.spec != "none" {
		meth := specdec.Method(strings.Fields(r.spec)[0])
		s = &Speculative{Method: meth, DraftLayers: 1, MaxNodes: 64, MaxDepth: 10, Acceptance: defaultAcc(t, meth)}
	}
	res, err := Predict(c, Workload{Batch: r.batch, InputLen: r.in, OutputLen: r.out}, s)
	if err != nil {
		t.Fatalf("%s: %v", r.id, err)
	}
	return res.TTITms
}

// TestPublicServingSet prints infer's time-per-token error on the public
// serving set of testdata/serving-public.csv (28 rows, none used to set a
// constant: vLLM batch-1 sweeps of Qwen3-30B-A3B on A100 and DeepSeek-R1
// AWQ on 8xH100, a gpt-oss-120b concurrency sweep on 8xH100, and SGLang's
// batch-1 figures with and without EAGLE) and fails when the MAPE rises
// above publicMAPEBound, today's figure.
func TestPublicServingSet(t *testing.T) {
	rows := readPublic(t)
	if len(rows) < 25 {
		t.Fatalf("%d rows, want at least 25", len(rows))
	}
	var sum, spSum float64
	var spN int
	plain := map[string][2]float64{} // source -> predicted, measured plain ttit
	for _, r := range rows {
		p := predictPublic(t, r)
		e := (p - r.ttit) / r.ttit
		sum += math.Abs(e)
		t.Logf("%-32s predicted %7.3f ms measured %7.3f ms  %+6.1f%%", r.id, p, r.ttit, e*100)
		key := r.model + "/" + r.gpu + "/" + r.engine + "/" + strconv.Itoa(r.batch)
		if r.spec == "none" {
			plain[key] = [2]float64{p, r.ttit}
		} else if base, ok := plain[key]; ok {
			ps, ms := base[0]/p, base[1]/r.ttit
			spSum += math.Abs(ps-ms) / ms
			spN++
			t.Logf("%-32s speed-up predicted %.2fx measured %.2fx", r.id, ps, ms)
		}
	}
	mape := sum / float64(len(rows))
	t.Logf("time-per-token MAPE on %d public rows: %.1f%% (bound %.1f%%, issue 15 target 10%%)", len(rows), mape*100, publicMAPEBound*100)
	if spN > 0 {
		t.Logf("speed-up MAPE on %d speculative rows: %.1f%% (too few rows to bound)", spN, spSum/float64(spN)*100)
	}
	if mape > publicMAPEBound {
		t.Errorf("MAPE %.1f%% exceeds the regression bound %.1f%%", mape*100, publicMAPEBound*100)
	}
}
