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
	var asJSON, fit, netw bool
	cmd := &cobra.Command{
		Use:   "validate",
		Short: "Compare predicted step times with the published training measurements",
		Long: `validate predicts every row of the public training measurement set (a copy
embedded in the binary from validate/training-measurements.csv in the source;
the reference copy, when present, is ../shared/reference/training-measurements.csv
beside the repository. Sources: Korthikanti et al. 2022 on A100,
NeMo 24.07 on H100, Llama 3 405B, NVIDIA DGX Cloud recipes, NeMo summaries,
NeMo AutoModel, torchtitan, DeepSeek-V3; dense and MoE) and prints predicted
against measured step time and the error of each row, the mean absolute
percentage error over all rows, by kind (dense, moe), by GPU and by source,
the rows that cannot be expressed with the reason, and the calibration used.

--fit re-fits the calibration parameters over all the public rows together
(one parameter set, each inside its physical range, Nelder-Mead,
deterministic) and reports every row with the fitted values; the built-in
defaults are the result of this fit.

--network runs the network measurement set instead (embedded from
validate/network-measurements.csv; reference copy
../shared/reference/network-measurements.csv): NCCL and Gloo send/recv and all-reduce
over tc-shaped links and between AWS regions, each priced with the host
transports nccl-socket and gloo-tcp on the two-or-more-host topology the row
describes; it prints every row's error, the MAPE per group and the training
rows it cannot express yet. With --fit it re-fits the three transport
parameters over those rows.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if netw {
				return runValidateNetwork(cmd.OutOrStdout(), asJSON, fit)
			}
			rows, err := validate.Rows()
			if err != nil {
				return err
			}
			p := cost.Default()
			if fit {
				if p, _, err = validate.Fit(rows, p); err != nil {
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
	cmd.Flags().BoolVar(&fit, "fit", false, "re-fit the calibration parameters over all the public rows")
	cmd.Flags().BoolVar(&netw, "network", false, "validate the network model against the measured slow-link timings")
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
	label := "calibration (built-in defaults, fitted over all the public rows)"
	if fitted {
		label = "calibration (fitted now over all the public rows; the built-in defaults are unchanged)"
	}
	c := rep.Calibration
	fmt.Fprintf(w, "%s:\n", label)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "  gemm_efficiency\t%.3f\tfitted\n", c.GEMMEfficiency)
	fmt.Fprintf(tw, "  low_precision_efficiency\t%.3f\tfitted\n", c.LowPrecisionEfficiency)
	fmt.Fprintf(tw, "  attention_efficiency\t%.3f\tfitted\n", c.AttentionEfficiency)
	fmt.Fprintf(tw, "  memory_efficiency\t%.3f\tfitted\n", c.MemoryEfficiency)
	fmt.Fprintf(tw, "  network_efficiency\t%.3f\tfitted\n", c.NetworkEfficiency)
	fmt.Fprintf(tw, "  routing_imbalance\t%.3f\tfitted\n", c.RoutingImbalance)
	fmt.Fprintf(tw, "  permute_efficiency\t%.3f\tfitted\n", c.PermuteEfficiency)
	fmt.Fprintf(tw, "  host_op_us\t%.1f\tfitted (host time per framework operation, x86 DGX host; Grace x%.2f, TransformerEngine#2053)\n", c.HostOpUs, cost.GraceHostFactor)
	fmt.Fprintf(tw, "  tile_dim\t%.0f\tfixed\n", c.TileDim)
	fmt.Fprintf(tw, "  kernel_overhead_us\t%.1f\tfixed\n", c.KernelOverheadUs)
	return tw.Flush()
}

// runValidateNetwork runs validate --network.
func runValidateNetwork(w io.Writer, asJSON, fit bool) error {
	rows, err := validate.NetworkRows()
	if err != nil {
		return err
	}
	p := validate.DefaultNetParams()
	if fit {
		if p, _, err = validate.FitNetwork(rows); err != nil {
			return err
		}
	}
	rep, err := validate.RunNetwork(rows, p)
	if err != nil {
		return err
	}
	if asJSON {
		return writeJSON(w, rep)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "row\tgroup\ttransport\tGPUs\tMiB\tlatency ms\tlink Gb/s\tmeasured\tpredicted\terror\tlimit\n")
	for _, r := range rep.Rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%.0f\t%.1f\t%.3g\t%.3f %s\t%.3f %s\t%+.1f%%\t%s\n",
			r.ID, r.Group, r.Transport, r.GPUs, r.MiB, r.LatencyMs, r.LinkGbps, r.Measured, r.Unit, r.Predicted, r.Unit, r.ErrorPct, r.Limit)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "\nMAPE by group:\n")
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "  group\trows\tMAPE\tlargest\n")
	for _, g := range rep.Groups {
		fmt.Fprintf(tw, "  %s\t%d\t%.1f%%\t%.1f%%\n", g.Name, g.Rows, g.MAPE, g.MaxAbsError)
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
	label := "transport parameters (built-in, fitted to the p2p and all-reduce rows; catalog entries nccl-socket and gloo-tcp)"
	if fit {
		label = "transport parameters (fitted now to the p2p and all-reduce rows; the built-in values are unchanged)"
	}
	fmt.Fprintf(w, "\n%s:\n", label)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "  startup_rtts\t%.1f\tfitted, range 0-4\n", p.StartupRTTs)
	fmt.Fprintf(tw, "  nccl_channels\t%d\tfitted, range 1-16 (x 4 MiB NCCL_BUFFSIZE in flight per peer)\n", p.NCCLChannels)
	fmt.Fprintf(tw, "  gloo_ring_copies\t%.2f\tfitted, range 1-2\n", p.GlooRingCopies)
	fmt.Fprintf(tw, "  tcp window\t3 MiB\tLinux tcp_rmem max 6 MiB x tcp_adv_win_scale 1\n")
	fmt.Fprintf(tw, "  nccl sockets per peer\t16\tNCCL net_socket.cc on AWS: 2 threads x 8 sockets\n")
	fmt.Fprintf(tw, "  aws single flow\t5 Gb/s\tAWS EC2 instance network bandwidth docs\n")
	fmt.Fprintf(tw, "  cloud vpn capacity\t1.34 Gb/s\tbest iperf3 -P 32 over the VPN in the rows' notes\n")
	return tw.Flush()
}
