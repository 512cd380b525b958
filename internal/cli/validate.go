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
		Long: `validate predicts every row of the public training measurement set
(Korthikanti et al. 2022 on A100, NeMo 24.07 on H100 FP8, Llama 3 405B; embedded
copy of reference/training-measurements.csv) and prints predicted against
measured step time, the error of each row, the mean absolute percentage error
and the calibration parameters used.

--fit re-fits the calibration parameters against the whole set (Nelder-Mead,
deterministic) and reports the fitted values and the errors they give; the
built-in defaults are the result of this fit.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			rows, err := validate.Rows()
			if err != nil {
				return err
			}
			var rep validate.Report
			if fit {
				_, rep, err = validate.Fit(rows, cost.Default())
			} else {
				rep, err = validate.Run(rows, cost.Default())
			}
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
	cmd.Flags().BoolVar(&fit, "fit", false, "re-fit the calibration parameters against all rows")
	return cmd
}

func writeValidateText(w io.Writer, rep validate.Report, fitted bool) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "row\tmodel\tGPUs\tmeasured s\tpredicted s\terror\tMFU\tmem GiB\n")
	for _, r := range rep.Rows {
		fits := ""
		if !r.Feasible {
			fits = " (over)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%d x %s\t%.3f\t%.3f\t%+.1f%%\t%.1f%%\t%.1f%s\n",
			r.ID, r.Model, r.GPUs, r.GPU, r.Measured, r.Predicted, r.ErrorPct, 100*r.MFU, r.MemoryGiB, fits)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "\n%d rows: MAPE %.2f%%, largest error %.1f%%\n", len(rep.Rows), rep.MAPE, rep.MaxAbsError)
	label := "calibration (built-in defaults)"
	if fitted {
		label = "calibration (fitted now; the built-in defaults are unchanged)"
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
