package validate

import (
	"fmt"
	"math"
	"strings"

	"github.com/scaleacross/scaleacross/cost"
	"github.com/scaleacross/scaleacross/hardware"
	"github.com/scaleacross/scaleacross/model"
	"github.com/scaleacross/scaleacross/parallel"
	"github.com/scaleacross/scaleacross/schedule"
	"github.com/scaleacross/scaleacross/train"
)

// Defaults for settings a publication leaves unknown. One rule for every
// such row, never a per-row choice.
const (
	// UnknownRecompute: NeMo's published performance configurations run
	// without activation recomputation unless they say otherwise.
	UnknownRecompute = parallel.RecomputeNone
	// UnknownLayersPerChunk: when the interleaving depth (vp) is not
	// published, each model chunk holds this many layers (vp = layers per
	// stage / 2), the middle of the depth-first/breadth-first range.
	UnknownLayersPerChunk = 2
)

// Config builds the training configuration of a row. Rows describe FSDP
// without parameter resharding ("fsdp-no-reshard", Llama 3): it gathers
// parameters once and reduce-scatters gradients once per step, the
// communication and optimizer sharding of ZeRO-1, so it maps to zero 1.
func (r Row) Config(p cost.Params) (*train.Config, []string, error) {
	m, err := model.Lookup(r.Model)
	if err != nil {
		return nil, nil, fmt.Errorf("row %s: %w", r.ID, err)
	}
	g, err := hardware.Lookup(r.GPU)
	if err != nil {
		return nil, nil, fmt.Errorf("row %s: %w", r.ID, err)
	}
	var notes []string
	prec, err := train.ParsePrecision(r.Precision)
	if err != nil {
		return nil, nil, fmt.Errorf("row %s: %w", r.ID, err)
	}
	rec := parallel.Recompute(r.Recompute)
	if r.Recompute == "unknown" || r.Recompute == "" {
		rec = UnknownRecompute
		notes = append(notes, "recompute unknown: "+string(rec))
	}
	zero := 1
	switch z := r.Zero; {
	case strings.HasPrefix(z, "fsdp-no-reshard"):
		zero = 1
		notes = append(notes, "fsdp without resharding modelled as zero 1")
	case z == "fsdp":
		zero = 3
	default:
		fmt.Sscanf(z, "%d", &zero)
	}
	pc := parallel.Config{TP: r.TP, PP: r.PP, VP: r.VP, CP: r.CP, EP: max(r.EP, 1), DP: r.DP, SP: r.SP, Zero: zero}
	if pc.VP == 0 {
		perStage := (m.Layers + 2) / r.PP
		if m.Layers%r.PP == 0 {
			perStage = m.Layers / r.PP
		}
		pc.VP = max(1, perStage/UnknownLayersPerChunk)
		notes = append(notes, fmt.Sprintf("vp unknown: %d (%d layers per chunk)", pc.VP, UnknownLayersPerChunk))
	}
	sched := schedule.OneFOneB
	if pc.VP > 1 {
		sched = schedule.Interleaved
	}
	b := parallel.Batch{SeqLen: r.SeqLen, GlobalBatch: r.GlobalBatch, MicroBatch: r.MicroBatch}
	if err := pc.Validate(m, r.GPUs, b); err != nil {
		return nil, nil, fmt.Errorf("row %s: %w", r.ID, err)
	}
	c := &train.Config{
		Model: m, GPU: g, GPUs: r.GPUs, Parallel: pc, Schedule: sched, Batch: b,
		Precision: prec, Recompute: rec, Calib: p,
	}
	if strings.Contains(r.Source, "Korthikanti") {
		// The 2022 measurements predate fused attention in Megatron-LM:
		// the paper's activation count (its eq. 1) keeps the 5as/h score terms.
		c.UnfusedAttention = true
		notes = append(notes, "unfused attention (Megatron-LM 2022)")
	}
	c.Topology = defaultTopology(g, r.GPUs)
	c.Placement = defaultPlacement()
	return c, notes, nil
}

// Result is one row's comparison.
type Result struct {
	ID        string          `json:"id"`
	Model     string          `json:"model"`
	GPU       string          `json:"gpu"`
	GPUs      int             `json:"gpus"`
	Measured  float64         `json:"measured_step_time_s"`
	Predicted float64         `json:"predicted_step_time_s"`
	ErrorPct  float64         `json:"error_pct"`
	MFU       float64         `json:"predicted_mfu"`
	TFLOPs    float64         `json:"predicted_model_tflops_per_gpu"`
	MemoryGiB float64         `json:"predicted_memory_gib_per_gpu"`
	Feasible  bool            `json:"feasible"`
	Assumed   []string        `json:"assumed,omitempty"`
	Breakdown train.Breakdown `json:"breakdown"`
}

// Report is the whole comparison.
type Report struct {
	Rows        []Result    `json:"rows"`
	MAPE        float64     `json:"mape_pct"`
	MaxAbsError float64     `json:"max_abs_error_pct"`
	Calibration cost.Params `json:"calibration"`
}

// Run predicts every row with the calibration p.
func Run(rows []Row, p cost.Params) (Report, error) {
	rep := Report{Calibration: p}
	var sum float64
	for _, row := range rows {
		c, notes, err := row.Config(p)
		if err != nil {
			return Report{}, err
		}
		res, err := train.Analytic(c)
		if err != nil {
			return Report{}, fmt.Errorf("row %s: %w", row.ID, err)
		}
		e := 100 * (res.StepTimeS - row.StepTimeS) / row.StepTimeS
		rep.Rows = append(rep.Rows, Result{
			ID: row.ID, Model: row.Model, GPU: row.GPU, GPUs: row.GPUs,
			Measured: row.StepTimeS, Predicted: res.StepTimeS, ErrorPct: e,
			MFU: res.MFU, TFLOPs: res.ModelTFLOPsPerGPU, MemoryGiB: res.MemoryGiBPerGPU, Feasible: res.Feasible,
			Assumed: notes, Breakdown: res.Breakdown,
		})
		sum += math.Abs(e)
		rep.MaxAbsError = math.Max(rep.MaxAbsError, math.Abs(e))
	}
	rep.MAPE = sum / float64(len(rows))
	return rep, nil
}
