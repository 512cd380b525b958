package cli

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/scaleacross/scaleacross/hardware"
	"github.com/scaleacross/scaleacross/internal/atomicfile"
	"github.com/scaleacross/scaleacross/launch"
	"github.com/scaleacross/scaleacross/report"
	"github.com/scaleacross/scaleacross/spec"
	"github.com/scaleacross/scaleacross/timeline"
	"github.com/scaleacross/scaleacross/train"
)

// noFitError reports a configuration that does not fit in memory: exit 3.
type noFitError struct{ need, have float64 }

func (e noFitError) Error() string {
	return fmt.Sprintf("the configuration does not fit: %.1f GiB per GPU needed, %.1f GiB available", e.need, e.have)
}
func (e noFitError) ExitCode() int { return ExitNoFit }

// simulateOutput is the JSON document of `simulate --json`.
type simulateOutput struct {
	Model     string `json:"model"`
	GPU       string `json:"gpu"`
	GPUs      int    `json:"gpus"`
	Parallel  any    `json:"parallel"`
	Schedule  string `json:"schedule"`
	Precision string `json:"precision"`
	Recompute string `json:"recompute"`
	Engine    string `json:"engine"`
	train.Result
	Assumptions []string `json:"assumptions"`
}

func newSimulateCmd() *cobra.Command {
	var file, engine, tracePath, ganttPath, emit string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "simulate -f job.yaml",
		Short: "Predict step time, throughput, MFU and memory of one training configuration",
		Long: `simulate predicts one training configuration: step time, tokens/s per GPU,
model TFLOP/s per GPU, MFU (against the dense peak of the training precision),
memory per GPU, and the step broken into compute, exposed communication per
parallel dimension, pipeline bubble and optimizer.

Engines: "analytic" (default; closed forms, ~20 us) and "event" (simulates
every op of the pipeline schedule, the sends between stages and the
data-parallel reduce-scatters; needed for --trace and --gantt, which select
it unless --engine says otherwise).

--trace out.json writes Chrome Trace Event JSON (open in ui.perfetto.dev or
chrome://tracing): one process per pipeline stage, one track per stream.
--gantt out.svg writes the same timeline as an SVG Gantt chart.

Exit codes: 0 fits; 2 bad spec; 3 does not fit in memory (breakdown printed).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if file == "" {
				return badInput("simulate needs a job spec: -f job.yaml (see examples/)")
			}
			for _, out := range []struct{ flag, path string }{{"--trace", tracePath}, {"--gantt", ganttPath}} {
				if out.path != "" {
					if err := checkOutDir(out.flag, out.path); err != nil {
						return err
					}
				}
			}
			job, err := spec.LoadJob(file)
			if err != nil {
				return err
			}
			c, err := train.Resolve(job, modelLoader(specDir(file)).Load, hardware.Lookup)
			if err != nil {
				return err
			}
			if emit != "" {
				text, err := launch.Write(emit, fmt.Sprintf("%s on %d x %s: %s, %s (scaleacross simulate -f %s)", c.Model.ID, c.GPUs, c.GPU.ID, c.Parallel, c.Schedule, file), c)
				if err != nil {
					return err
				}
				_, err = io.WriteString(cmd.OutOrStdout(), text)
				return err
			}
			timelineWanted := tracePath != "" || ganttPath != ""
			if !cmd.Flags().Changed("engine") && timelineWanted {
				engine = train.EngineEvent
			}
			if engine != train.EngineAnalytic && engine != train.EngineEvent {
				return badInput("--engine %q unknown; use analytic or event", clipArg(engine))
			}
			if timelineWanted && engine != train.EngineEvent {
				return badInput("--trace and --gantt need --engine event")
			}
			var set *atomicfile.Set
			if timelineWanted {
				var stop func()
				set, stop = exitOnSignal(cmd.ErrOrStderr())
				defer stop()
			}
			var res train.Result
			var tl *train.Timeline
			if engine == train.EngineEvent {
				res, tl, err = train.EventTimeline(c)
			} else {
				res, err = train.Analytic(c)
			}
			if err != nil {
				return err
			}
			if tl != nil {
				tracks := tl.Tracks()
				if tracePath != "" {
					if err := writeFileAtomic(set, tracePath, func(w io.Writer) error { return timeline.WriteChromeTrace(w, tracks) }); err != nil {
						return err
					}
				}
				if ganttPath != "" {
					if err := writeFileAtomic(set, ganttPath, func(w io.Writer) error { return timeline.WriteGanttSVG(w, tracks, 1400) }); err != nil {
						return err
					}
				}
			}
			out := simulateOutput{
				Model: c.Model.ID, GPU: c.GPU.ID, GPUs: c.GPUs, Parallel: c.Parallel,
				Schedule: string(c.Schedule), Precision: string(c.Precision), Recompute: string(c.Recompute),
				Engine: engine, Result: res, Assumptions: c.Assumptions,
			}
			if out.Assumptions == nil {
				out.Assumptions = []string{}
			}
			w := cmd.OutOrStdout()
			if asJSON {
				err = writeJSON(w, out)
			} else {
				err = writeSimulateText(w, c, out)
			}
			if err != nil {
				return err
			}
			if !res.Feasible {
				return noFitError{res.Memory.Total, res.Memory.Capacity}
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&file, "file", "f", "", "training job spec (YAML or JSON)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.Flags().StringVar(&engine, "engine", train.EngineAnalytic, "step model: analytic or event")
	cmd.Flags().StringVar(&tracePath, "trace", "", "write the event-level timeline as Chrome Trace Event JSON")
	cmd.Flags().StringVar(&ganttPath, "gantt", "", "write the event-level timeline as an SVG Gantt chart")
	cmd.Flags().StringVar(&emit, "emit", "", "print the launch arguments of this configuration instead: megatron, megatron-bridge or torchtitan")
	return cmd
}

func writeSimulateText(w io.Writer, c *train.Config, o simulateOutput) error {
	r := o.Result
	fmt.Fprintf(w, "%s on %d x %s, %s\n", c.Model.Name, c.GPUs, c.GPU.Name, o.Precision)
	fmt.Fprintf(w, "parallel %s, schedule %s, %d micro-batches of %d x %d tokens, recompute %s\n",
		c.Parallel, c.Schedule, r.MicroBatches, c.Batch.MicroBatch, c.Batch.SeqLen, c.Recompute)
	fmt.Fprintf(w, "engine %s\n\n", o.Engine)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fits := "fits"
	if !r.Feasible {
		fits = "DOES NOT FIT"
	}
	fmt.Fprintf(tw, "step time\t%s\n", seconds(r.StepTimeS))
	fmt.Fprintf(tw, "throughput\t%s tokens/s/GPU (%s tokens/s)\n", report.Thousands(r.TokensPerSPerGPU), report.Thousands(r.TokensPerS))
	fmt.Fprintf(tw, "model TFLOP/s/GPU\t%.1f (MFU %.1f%%)\n", r.ModelTFLOPsPerGPU, 100*r.MFU)
	fmt.Fprintf(tw, "memory per GPU\t%.1f of %.1f GiB, %s\n", r.Memory.Total, r.Memory.Capacity, fits)
	tw.Flush()

	fmt.Fprintf(w, "\nstep breakdown (exposed time)\n")
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	b := r.Breakdown
	rows := []struct {
		name string
		v    float64
	}{
		{"compute", b.ComputeS}, {"tp comm", b.TPCommS}, {"cp comm", b.CPCommS}, {"ep comm", b.EPCommS},
		{"pp comm", b.PPCommS}, {"dp comm", b.DPCommS}, {"pipeline bubble", b.BubbleS}, {"optimizer", b.OptimizerS},
	}
	for _, row := range rows {
		fmt.Fprintf(tw, "  %s\t%10s\t%5.1f%%\n", row.name, seconds(row.v), 100*row.v/r.StepTimeS)
	}
	tw.Flush()

	if len(r.Levels) > 0 {
		fmt.Fprintf(w, "\ntraffic per GPU per step (most loaded stage)\n")
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintf(tw, "  dim\tlevel\tbytes\ttime\tgroups crossing\tcrosses site\n")
		for _, l := range r.Levels {
			site := ""
			if l.CrossesSite {
				site = "yes"
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%d\t%s\n", l.Dim, l.Level, report.Bytes(l.Bytes), seconds(l.TimeS), l.Groups, site)
		}
		tw.Flush()
	}

	fmt.Fprintf(w, "\nmemory per GPU (most loaded stage, %.1f micro-batches in flight)\n", r.Memory.InFlight)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	m := r.Memory
	for _, row := range []struct {
		name string
		v    float64
	}{{"weights", m.Weights}, {"gradients", m.Gradients}, {"optimizer state", m.Optimizer}, {"activations", m.Activations}, {"reserved/buffers", m.Buffers}, {"total", m.Total}} {
		fmt.Fprintf(tw, "  %s\t%7.2f GiB\n", row.name, row.v)
	}
	tw.Flush()
	if len(o.Assumptions) > 0 {
		fmt.Fprintf(w, "\nassumed:\n")
		for _, a := range o.Assumptions {
			fmt.Fprintf(w, "  - %s\n", a)
		}
	}
	return nil
}
