// Package validate compares step-time predictions with the published
// training measurements (reference/training-measurements.csv, all 310
// rows embedded here so the tool stands alone), reports the error per row
// and by group (dense or MoE, GPU, source) with the rows that cannot be
// expressed, and fits the calibration parameters over all the rows together.
package validate

import (
	_ "embed"
	"encoding/csv"
	"fmt"
	"strconv"
	"strings"
)

//go:embed training-measurements.csv
var measurementsCSV string

// Row is one published measurement with its full configuration.
type Row struct {
	ID          string `json:"id"`
	Source      string `json:"source"`
	Model       string `json:"model"`
	GPU         string `json:"gpu"`
	GPUs        int    `json:"gpus"`
	Precision   string `json:"precision"`
	TP          int    `json:"tp"`
	PP          int    `json:"pp"`
	VP          int    `json:"vp"` // 0 when unpublished
	CP          int    `json:"cp"`
	EP          int    `json:"ep"`
	ETP         int    `json:"etp,omitempty"` // 0 when not printed (Megatron's default: tp)
	DP          int    `json:"dp"`
	Zero        string `json:"zero"`
	SP          bool   `json:"sp"`
	MicroBatch  int    `json:"micro_batch"`
	GlobalBatch int    `json:"global_batch"`
	SeqLen      int    `json:"seq_len"`
	Recompute   string `json:"recompute"`
	Schedule    string `json:"schedule"`
	// Layers is the proxy depth of a run with fewer layers than the
	// named model; 0 means the full model.
	Layers    int     `json:"layers,omitempty"`
	StepTimeS float64 `json:"step_time_s"`
	Notes     string  `json:"notes"`
}

// Rows parses the embedded measurement set.
func Rows() ([]Row, error) { return ParseRows(measurementsCSV) }

// ParseRows parses a measurement CSV with the reference header.
func ParseRows(text string) ([]Row, error) {
	recs, err := csv.NewReader(strings.NewReader(text)).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("measurements: %w", err)
	}
	if len(recs) < 2 {
		return nil, fmt.Errorf("measurements: no rows")
	}
	col := map[string]int{}
	for i, h := range recs[0] {
		col[h] = i
	}
	for _, need := range []string{"id", "model", "gpu", "gpus", "precision", "tp", "pp", "vp", "cp", "ep", "dp", "zero", "sp", "micro_batch", "global_batch", "seq_len", "recompute", "schedule", "step_time_s"} {
		if _, ok := col[need]; !ok {
			return nil, fmt.Errorf("measurements: missing column %q", need)
		}
	}
	var rows []Row
	for n, r := range recs[1:] {
		get := func(k string) string { return strings.TrimSpace(r[col[k]]) }
		var perr error
		atoi := func(k string) int {
			s := get(k)
			if s == "unknown" || s == "" {
				return 0
			}
			v, err := strconv.Atoi(s)
			if err != nil && perr == nil {
				perr = fmt.Errorf("measurements row %d (%s): %s: %w", n+2, get("id"), k, err)
			}
			return v
		}
		row := Row{
			ID: get("id"), Model: get("model"), GPU: get("gpu"), GPUs: atoi("gpus"), Precision: get("precision"),
			TP: atoi("tp"), PP: atoi("pp"), VP: atoi("vp"), CP: atoi("cp"), EP: atoi("ep"), DP: atoi("dp"),
			Zero: get("zero"), SP: get("sp") == "true", MicroBatch: atoi("micro_batch"), GlobalBatch: atoi("global_batch"),
			SeqLen: atoi("seq_len"), Recompute: get("recompute"), Schedule: get("schedule"),
		}
		if i, ok := col["source"]; ok {
			row.Source = r[i]
		}
		// Columns added with the MoE rows (issue 10); older copies lack them.
		if _, ok := col["etp"]; ok {
			row.ETP = atoi("etp")
		}
		if _, ok := col["layers"]; ok {
			row.Layers = atoi("layers")
		}
		if i, ok := col["notes"]; ok {
			row.Notes = r[i]
		}
		st, err := strconv.ParseFloat(get("step_time_s"), 64)
		if err != nil {
			return nil, fmt.Errorf("measurements row %d (%s): step_time_s: %w", n+2, row.ID, err)
		}
		row.StepTimeS = st
		if perr != nil {
			return nil, perr
		}
		rows = append(rows, row)
	}
	return rows, nil
}
