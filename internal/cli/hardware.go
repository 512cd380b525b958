package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/scaleacross/scaleacross/hardware"
)

// newHardwareCmd builds `scaleacross hardware [show ID] [--json]`.
func newHardwareCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "hardware",
		Short: "List the built-in accelerator catalog",
		Long: `hardware lists the built-in accelerators with their dense (non-sparse) peak
TFLOP/s, HBM capacity and bandwidth, scale-up domain and scale-out NIC.
"hardware show ID" prints one entry in full, with the source of every number.`,
		Args: hardwareNoArgs("scaleacross hardware show ID"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			gpus := hardware.Builtin()
			if asJSON {
				return writeHardwareJSON(cmd.OutOrStdout(), gpus)
			}
			return writeHardwareTable(cmd.OutOrStdout(), gpus)
		},
	}
	cmd.PersistentFlags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.AddCommand(newHardwareShowCmd(&asJSON))
	return cmd
}

// newHardwareShowCmd builds `scaleacross hardware show ID`.
func newHardwareShowCmd(asJSON *bool) *cobra.Command {
	return &cobra.Command{
		Use:   "show ID",
		Short: "Show one accelerator in full, with sources",
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != 1 {
				return badInput("hardware show takes exactly one GPU id, got %d arguments; run \"scaleacross hardware\" for the ids", len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			g, err := hardware.Lookup(args[0])
			if err != nil {
				return fmt.Errorf("hardware show: %w", err)
			}
			if *asJSON {
				return writeHardwareJSON(cmd.OutOrStdout(), g)
			}
			return writeHardwareDetail(cmd.OutOrStdout(), g)
		},
	}
}

// hardwareNoArgs rejects positional arguments with an exit-code-2 error that
// points at the right usage.
func hardwareNoArgs(usage string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) > 0 {
			return badInput("%s takes no arguments, got %q; did you mean %q?", cmd.CommandPath(), clipArg(args[0]), usage)
		}
		return nil
	}
}

// writeHardwareJSON prints v as indented JSON.
func writeHardwareJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("writing JSON: %w", err)
	}
	return nil
}

// hwPeakCell formats the dense peak for p, or "-" when unsupported.
func hwPeakCell(g *hardware.GPU, p hardware.Precision) string {
	v, ok := g.PeakTFLOPS(p)
	if !ok {
		return "-"
	}
	return hwNum(v)
}

// hwNum formats a number without trailing zeros.
func hwNum(v float64) string {
	return strconv.FormatFloat(v, 'f', -1, 64)
}

func writeHardwareTable(w io.Writer, gpus []hardware.GPU) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tBF16\tFP8\tFP4\tHBM GB\tHBM TB/s\tSCALE-UP\tSCALE-UP GB/s\tNIC Gb/s")
	for i := range gpus {
		g := &gpus[i]
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\n",
			g.ID, g.Name,
			hwPeakCell(g, hardware.BF16), hwPeakCell(g, hardware.FP8), hwPeakCell(g, hardware.NVFP4),
			hwNum(g.MemoryGB), hwNum(g.HBMBandwidthGB/1000),
			g.ScaleUpSize, hwNum(g.ScaleUpGBs), hwNum(g.NICGbps))
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("writing table: %w", err)
	}
	_, err := fmt.Fprintln(w, "\nPeaks are dense TFLOP/s (FP4 = NVFP4); scale-up bandwidth is per GPU, per direction.")
	return err
}

func writeHardwareDetail(w io.Writer, g *hardware.GPU) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "id:\t%s\n", g.ID)
	fmt.Fprintf(tw, "name:\t%s\n", g.Name)
	fmt.Fprintf(tw, "vendor:\t%s\n", g.Vendor)
	fmt.Fprintf(tw, "architecture:\t%s\n", g.Arch)
	fmt.Fprintf(tw, "system:\t%s\n", g.System)
	fmt.Fprintf(tw, "HBM:\t%s GB at %s GB/s\n", hwNum(g.MemoryGB), hwNum(g.HBMBandwidthGB))
	fmt.Fprintf(tw, "scale-up:\t%d GPUs, %s GB/s per GPU per direction, %s us latency\n",
		g.ScaleUpSize, hwNum(g.ScaleUpGBs), hwNum(g.ScaleUpLatencyUs))
	fmt.Fprintf(tw, "scale-out:\t%s Gb/s NIC per GPU, %s us latency\n", hwNum(g.NICGbps), hwNum(g.ScaleOutLatencyUs))
	if g.TDPWatts > 0 {
		fmt.Fprintf(tw, "TDP:\t%s W\n", hwNum(g.TDPWatts))
	}
	for _, p := range g.Peaks {
		fmt.Fprintf(tw, "peak %s:\t%s TFLOP/s dense\n", p.Precision, hwNum(p.TFLOPS))
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("writing details: %w", err)
	}
	fmt.Fprintln(w, "sources:")
	for _, s := range g.Sources {
		if _, err := fmt.Fprintf(w, "  - %s\n", s); err != nil {
			return fmt.Errorf("writing sources: %w", err)
		}
	}
	return nil
}
