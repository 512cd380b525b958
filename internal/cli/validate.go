package cli

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/scaleacross/scaleacross/cost"
	"github.com/scaleacross/scaleacross/validate"
)

func newValidateCmd() *cobra.Command {
	var asJSON, fit bool
	cmd := &cobra.Command{
		Use:   "validate",
		Short: "Compare predicted step times with the published training measurements",
		Long: `validate predicts every row of the public training measurement set (embedded
copy of reference/training-measurements.csv: Korthikanti et al. 2022 on A100,
NeMo 24.07 on H100, Llama 3 405B, NVIDIA DGX Cloud recipes, NeMo summaries,
NeMo AutoModel, torchtitan, DeepSeek-V3; dense and MoE) and prints predicted
against measured step time and the error of each row, the mean absolute
percentage error over all rows, by kind (dense, moe), by GPU and by source,
the rows that cannot be expressed with the reason, and the calibration used.

--fit re-fits the calibration parameters against the calibration set (the 23
rows of Korthikanti et al., NeMo 24.07 and Llama 3, Nelder-Mead,
deterministic) and reports every row with the fitted values; the built-in
defaults are the result of this fit.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			rows, err := validate.Rows()
			if err != nil {
				return err
			}
			p := cost.Default()
			if fit {
				if p, _, err = validate.Fit(validate.CalibrationRows(rows), p); err != nil {
					return err
				}
			}
			rep, err := validate.Run(rows, p)
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(cmd.OutOrStdout(), rep)
			}
			return writeValidateText(cmd.OutOrStdout(), rep, fit)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.Flags().BoolVar(&fit, "fit", false, "re-fit the calibration parameters against the calibration set")
	return cmd
}

func writeValidateText(w io.Writer, rep validate.Report, fitted bool) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "row\tmodel\tkind\tGPUs\tmeasured s\tpredicted s\terror\tMFU\tmem GiB\n")
	for _, r := range rep.Rows {
		fits := ""
		if !r.Feasible {
			fits = " (over)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d x %s\t%.3f\t%.3f\t%+.1f%%\t%.1f%%\t%.1f%s\n",
			r.ID, r.Model, r.Kind, r.GPUs, r.GPU, r.Measured, r.Predicted, r.ErrorPct, 100*r.MFU, r.MemoryGiB, fits)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "\n%d rows: MAPE %.2f%%, largest error %.1f%%\n", len(rep.Rows), rep.MAPE, rep.MaxAbsError)
	fmt.Fprintf(w, "\nMAPE by group:\n")
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "  by\tgroup\trows\tMAPE\tlargest\n")
	for _, g := range rep.Groups {
		fmt.Fprintf(tw, "  %s\t%s\t%d\t%.1f%%\t%.1f%%\n", g.By, g.Name, g.Rows, g.MAPE, g.MaxAbsError)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(rep.Skipped) > 0 {
		fmt.Fprintf(w, "\n%d rows cannot be expressed yet:\n", len(rep.Skipped))
		for _, s := range rep.Skipped {
			fmt.Fprintf(w, "  %s: %s\n", s.ID, s.Reason)
		}
	}
	fmt.Fprintln(w)
	label := "calibration (built-in defaults, fitted to the 23 rows of Korthikanti et al., NeMo 24.07 and Llama 3)"
	if fitted {
		label = "calibration (fitted now to the 23 calibration rows; the built-in defaults are unchanged)"
	}
	c := rep.Calibration
	fmt.Fprintf(w, "%s:\n", label)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "  gemm_efficiency\t%.3f\tfitted\n", c.GEMMEfficiency)
	fmt.Fprintf(tw, "  low_precision_efficiency\t%.3f\tfitted\n", c.LowPrecisionEfficiency)
	fmt.Fprintf(tw, "  attention_efficiency\t%.3f\tfitted\n", c.AttentionEfficiency)
	fmt.Fprintf(tw, "  memory_efficiency\t%.3f\tfitted\n", c.MemoryEfficiency)
	fmt.Fprintf(tw, "  network_efficiency\t%.3f\tfitted\n", c.NetworkEfficiency)
	fmt.Fprintf(tw, "  tile_dim\t%.0f\tfixed\n", c.TileDim)
	fmt.Fprintf(tw, "  kernel_overhead_us\t%.1f\tfixed\n", c.KernelOverheadUs)
	return tw.Flush()
}
