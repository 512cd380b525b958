package cli

import (
	"fmt"
	"image/color"
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"

	"github.com/scaleacross/scaleacross/hardware"
	"github.com/scaleacross/scaleacross/infer"
	"github.com/scaleacross/scaleacross/spec"
)

// newInferCmd builds `scaleacross infer -f serve.yaml [--json] [--sweep batch=...] [--plot out.svg]`.
func newInferCmd() *cobra.Command {
	var file, sweep, plotPath string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "infer -f serve.yaml",
		Short: "Predict serving latency and throughput, with and without speculative decoding",
		Long: `infer predicts, for a model served on one GPU server, the time to first token,
the time per output token (ttit) and the throughput, without speculation and with
speculative decoding: EAGLE or EAGLE-3 draft heads (eagle, eagle3), the model's own
multi-token-prediction module (mtp), a separate draft model (draft, with
speculative.draft_model) or prompt lookup (ngram). With "tree: auto" it searches the
best draft tree (chain, for mtp, draft and ngram) for the batch (Sequoia-style
dynamic programme), or reports that speculation does not pay. Acceptance defaults
per method are documented assumptions; give your draft's measured per-depth
acceptance in speculative.acceptance or its accepted lengths in
speculative.accepted_lengths.

  --sweep batch=1,2,4,...,256   price each batch size (a "..." continues the
                                progression of the two values before it)
  --plot out.svg|out.png        with --sweep, plot time per token and speed-up
                                against batch, with and without speculation

Exit codes: 2 bad input (the message names the field), 3 the batch at its
context exceeds the KV capacity (the message states the capacity).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if file == "" {
				return badInput("infer needs a serving spec: -f serve.yaml (see examples/serve-*.yaml)")
			}
			if plotPath != "" && sweep == "" {
				return badInput("--plot needs --sweep batch=...")
			}
			if plotPath != "" {
				if err := checkOutDir("--plot", plotPath); err != nil {
					return err
				}
			}
			job, err := loadServe(file)
			if err != nil {
				return err
			}
			if sweep != "" {
				batches, err := parseSweep(sweep)
				if err != nil {
					return err
				}
				return runSweep(cmd.OutOrStdout(), cmd.ErrOrStderr(), job, batches, asJSON, plotPath)
			}
			r, err := infer.Predict(job.cfg, job.work, job.spec)
			if err != nil {
				return fmt.Errorf("infer %s: %w", file, err)
			}
			if asJSON {
				return writeJSON(cmd.OutOrStdout(), r)
			}
			return writeInferText(cmd.OutOrStdout(), job, r)
		},
	}
	cmd.Flags().StringVarP(&file, "file", "f", "", "serving spec (YAML or JSON)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.Flags().StringVar(&sweep, "sweep", "", `batch sizes to price, e.g. "batch=1,2,4,...,256"`)
	cmd.Flags().StringVar(&plotPath, "plot", "", "with --sweep: write a plot to this .svg or .png file")
	return cmd
}

// loadServe reads, validates and resolves a serving spec.
func loadServe(path string) (*resolvedServe, error) {
	s, j, err := infer.LoadFile(path, modelLoader(specDir(path)).Load, hardware.Lookup)
	if err != nil {
		return nil, err
	}
	return &resolvedServe{s: s, cfg: j.Config, work: j.Workload, spec: j.Speculative}, nil
}

type resolvedServe struct {
	s    *spec.Serve
	cfg  *infer.Config
	work infer.Workload
	spec *infer.Speculative
}

// parseSweep reads "batch=1,2,4,...,256".
func parseSweep(arg string) ([]int, error) {
	if len(arg) > maxArgLen {
		return nil, badInput("--sweep is %d bytes, over the limit of %d", len(arg), maxArgLen)
	}
	key, list, ok := strings.Cut(arg, "=")
	if !ok || strings.TrimSpace(key) != "batch" {
		return nil, badInput("--sweep %q: want batch=LIST, e.g. batch=1,2,4,...,256", clipArg(arg))
	}
	parts := strings.Split(list, ",")
	var out []int
	for i := 0; i < len(parts); i++ {
		p := strings.TrimSpace(parts[i])
		if p == "..." {
			if len(out) < 2 || i+1 >= len(parts) {
				return nil, badInput("--sweep: \"...\" needs two values before it and one after")
			}
			end, err := strconv.Atoi(strings.TrimSpace(parts[i+1]))
			if err != nil {
				return nil, badInput("--sweep: %q is not an integer", clipArg(parts[i+1]))
			}
			if end > spec.MaxBatch {
				return nil, badInput("--sweep: batch %d is over the limit of %d", end, spec.MaxBatch)
			}
			a, b := out[len(out)-2], out[len(out)-1]
			next := func(x int) int { return x + (b - a) }
			if a > 0 && b%a == 0 && b/a > 1 {
				next = func(x int) int { return x * (b / a) }
			}
			if b <= a {
				return nil, badInput("--sweep: the values before \"...\" must increase")
			}
			for x := next(b); x < end; x = next(x) {
				if len(out) >= maxSweep {
					return nil, badInput("--sweep: the progression gives more than %d batch sizes", maxSweep)
				}
				out = append(out, x)
			}
			continue
		}
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 {
			return nil, badInput("--sweep: batch %q must be a positive integer", clipArg(p))
		}
		if n > spec.MaxBatch {
			return nil, badInput("--sweep: batch %d is over the limit of %d", n, spec.MaxBatch)
		}
		if len(out) >= maxSweep {
			return nil, badInput("--sweep: give between 1 and %d batch sizes", maxSweep)
		}
		if len(out) > 0 && n <= out[len(out)-1] {
			return nil, badInput("--sweep: batch sizes must increase (%d after %d)", n, out[len(out)-1])
		}
		out = append(out, n)
	}
	if len(out) == 0 || len(out) > maxSweep {
		return nil, badInput("--sweep: give between 1 and %d batch sizes", maxSweep)
	}
	return out, nil
}

func writeInferText(w io.Writer, j *resolvedServe, r *infer.Result) error {
	c := j.cfg
	layout := fmt.Sprintf("tp %d, ep %d, dp %d", r.TP, r.EP, r.DP)
	if r.PP > 1 {
		layout += fmt.Sprintf(", pp %d", r.PP)
	}
	if r.Servers > 1 {
		layout += fmt.Sprintf("; %d servers", r.Servers)
	}
	fmt.Fprintf(w, "%s on %dx %s (%s), %s weights, batch %d, decode priced at context %d\n\n",
		c.Model.Name, c.GPUs, c.GPU.ID, layout, r.Precision, r.Batch, r.Context)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	if r.Method == "" {
		fmt.Fprintf(tw, "time per output token (ttit)\t%.2f ms\n", r.TTITms)
		fmt.Fprintf(tw, "throughput\t%.0f tokens/s (%.0f per GPU)\n", r.TokensPerS, r.TokensPerSPerGPU)
	} else {
		fmt.Fprintf(tw, "\tno speculation\t%s\n", r.Method)
		fmt.Fprintf(tw, "time per output token (ttit)\t%.2f ms\t%.2f ms\n", r.PlainTTITms, r.PlainTTITms/r.Speedup)
		fmt.Fprintf(tw, "throughput (tokens/s)\t%.0f\t%.0f\n", r.PlainTokensPerS, r.PlainTokensPerS*r.Speedup)
	}
	fmt.Fprintf(tw, "time to first token (ttft)\t%.1f ms\n", r.TTFTms)
	fmt.Fprintf(tw, "KV capacity at context %d\t%d sequences\n", r.Memory.AtContext, r.Memory.MaxBatch)
	fmt.Fprintf(tw, "memory per GPU\t%.1f GiB weights, %.1f GiB draft, %.1f GiB KV\n",
		r.Memory.WeightsB/(1<<30), r.Memory.DraftB/(1<<30), r.Memory.KVB/(1<<30))
	if err := tw.Flush(); err != nil {
		return err
	}
	if r.Method != "" {
		fmt.Fprintln(w)
		if r.Tree != nil {
			fmt.Fprintf(w, "speculation %s: %.2fx, %.2f accepted tokens per step, step %.2f ms\n", onOff(r.SpeculationOn), r.Speedup, r.AcceptedTokensPerStep, r.SpecStepMs)
			fmt.Fprintf(w, "tree: %d nodes, depth %d: %v\n", r.TreeNodes, r.TreeDepth, r.Tree)
		} else {
			fmt.Fprintf(w, "speculation off: the best tree reaches only %.2fx at this batch\n", r.Speedup)
		}
		if r.Acceptance != nil {
			fmt.Fprintf(w, "acceptance by depth: %s\n", fmtFloats(r.Acceptance.ByDepth))
		}
	}
	fmt.Fprintln(w, "\nassumptions:")
	for _, a := range r.Assumptions {
		fmt.Fprintf(w, "  - %s\n", a)
	}
	return nil
}

func onOff(on bool) string {
	if on {
		return "on"
	}
	return "off"
}

func fmtFloats(v []float64) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = strconv.FormatFloat(x, 'f', 3, 64)
	}
	return "[" + strings.Join(s, " ") + "]"
}

// sweepReport is the --json output of a sweep.
type sweepReport struct {
	Model       string        `json:"model"`
	GPU         string        `json:"gpu"`
	GPUs        int           `json:"gpus"`
	Method      string        `json:"method"`
	Context     int           `json:"context"`
	Points      []infer.Point `json:"points"`
	Assumptions []string      `json:"assumptions"`
}

func runSweep(w, stderr io.Writer, j *resolvedServe, batches []int, asJSON bool, plotPath string) error {
	pts, err := infer.Sweep(j.cfg, j.work, j.spec, batches)
	if err != nil {
		return err
	}
	method := "none"
	var notes []string
	if j.spec != nil {
		method = string(j.spec.Method)
		if j.spec.Acceptance.Assumed {
			notes = append(notes, "acceptance is ASSUMED: "+j.spec.Acceptance.Source)
		}
	}
	notes = append(notes, "batches beyond KV capacity are marked fits=false")
	rep := sweepReport{Model: j.cfg.Model.ID, GPU: j.cfg.GPU.ID, GPUs: j.cfg.GPUs, Method: method,
		Context: j.work.DecodeContext(), Points: pts, Assumptions: notes}
	if plotPath != "" {
		title := fmt.Sprintf("%s on %dx %s, %s", j.cfg.Model.ID, j.cfg.GPUs, j.cfg.GPU.ID, method)
		if err := plotSweep(pts, title, plotPath, stderr); err != nil {
			return err
		}
	}
	if asJSON {
		return writeJSON(w, rep)
	}
	fmt.Fprintf(w, "%s on %dx %s, %s, decode at context %d\n\n", rep.Model, rep.GPUs, rep.GPU, method, rep.Context)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "batch\tplain ms/token\tspec ms/token\tspeed-up\ttokens/step\ttree nodes\tplain tok/s\tspec tok/s\tfits\t")
	for _, p := range pts {
		nodes := "-"
		if p.Tree != nil {
			nodes = strconv.Itoa(len(p.Tree))
		}
		fmt.Fprintf(tw, "%d\t%.2f\t%.2f\t%.2fx\t%.2f\t%s\t%.0f\t%.0f\t%v\t\n", p.Batch, p.PlainTTITms, p.SpecTTITms, p.Speedup, p.Accepted, nodes, p.PlainTokensS, p.SpecTokensS, p.Fits)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if j.spec != nil {
		writeStops(w, pts)
	}
	for _, n := range notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
	if plotPath != "" {
		fmt.Fprintf(w, "plot written to %s\n", plotPath)
	}
	return nil
}

// writeStops says at which batches speculation stops (and starts again)
// paying, and why.
func writeStops(w io.Writer, pts []infer.Point) {
	on := true
	for i, p := range pts {
		pays := p.BestTreeSpeedup >= 1
		switch {
		case !pays && (on || i == 0):
			fmt.Fprintf(w, "speculation stops paying at batch %d: %s\n", p.Batch, p.WhyNot)
		case pays && !on:
			fmt.Fprintf(w, "speculation pays again from batch %d (%.2fx)\n", p.Batch, p.BestTreeSpeedup)
		}
		on = pays
	}
}

// plotSweep draws time per token and speed-up against batch.
func plotSweep(pts []infer.Point, title, path string, stderr io.Writer) error {
	ext := strings.ToLower(filepath.Ext(path))
	if ext != ".svg" && ext != ".png" {
		return badInput("--plot %q: the file must end in .svg or .png", clipArg(path))
	}
	plain, specd, speed, one := make(plotter.XYs, len(pts)), make(plotter.XYs, len(pts)), make(plotter.XYs, len(pts)), make(plotter.XYs, len(pts))
	for i, p := range pts {
		x := float64(p.Batch)
		plain[i] = plotter.XY{X: x, Y: p.PlainTTITms}
		specd[i] = plotter.XY{X: x, Y: p.SpecTTITms}
		speed[i] = plotter.XY{X: x, Y: p.Speedup}
		one[i] = plotter.XY{X: x, Y: 1}
	}
	logX := len(pts) > 1 && pts[len(pts)-1].Batch >= 4*pts[0].Batch
	top := plot.New()
	top.Title.Text = title
	top.X.Label.Text = "batch"
	top.Y.Label.Text = "time per output token (ms)"
	bottom := plot.New()
	bottom.X.Label.Text = "batch"
	bottom.Y.Label.Text = "speed-up of speculation"
	for _, p := range []*plot.Plot{top, bottom} {
		p.Legend.Top = true
		if logX {
			p.X.Scale = plot.LogScale{}
			p.X.Tick.Marker = plot.LogTicks{Prec: -1}
		}
	}
	if err := addLine(top, plain, "no speculation", 0); err != nil {
		return err
	}
	if err := addLine(top, specd, "speculation when it pays", 1); err != nil {
		return err
	}
	if err := addLine(bottom, speed, "speed-up", 2); err != nil {
		return err
	}
	if err := addLine(bottom, one, "break-even", 3); err != nil {
		return err
	}
	w, h := 16*vg.Centimeter, 20*vg.Centimeter
	var canvas vg.CanvasWriterTo
	if ext == ".svg" {
		canvas = vgsvg.New(w, h)
	} else {
		canvas = vgimg.PngCanvas{Canvas: vgimg.New(w, h)}
	}
	dc := draw.New(canvas)
	tiles := draw.Tiles{Rows: 2, Cols: 1, PadTop: vg.Millimeter * 3, PadBottom: vg.Millimeter * 3, PadLeft: vg.Millimeter * 3, PadRight: vg.Millimeter * 3, PadY: vg.Millimeter * 6}
	cs := plot.Align([][]*plot.Plot{{top}, {bottom}}, tiles, dc)
	top.Draw(cs[0][0])
	bottom.Draw(cs[1][0])
	set, stop := exitOnSignal(stderr)
	defer stop()
	if err := writeFileAtomic(set, path, func(w io.Writer) error {
		_, err := canvas.WriteTo(w)
		return err
	}); err != nil {
		return fmt.Errorf("--plot: %w", err)
	}
	return nil
}

func addLine(p *plot.Plot, xy plotter.XYs, name string, style int) error {
	l, s, err := plotter.NewLinePoints(xy)
	if err != nil {
		return fmt.Errorf("plot %s: %w", name, err)
	}
	colors := []struct{ r, g, b uint8 }{{31, 119, 180}, {214, 39, 40}, {44, 160, 44}, {127, 127, 127}}
	c := colors[style%len(colors)]
	l.Color = rgb(c.r, c.g, c.b)
	s.Color = l.Color
	if style == 3 {
		l.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
		s.Radius = 0
	}
	p.Add(l, s)
	p.Legend.Add(name, l, s)
	return nil
}

func rgb(r, g, b uint8) color.Color { return color.RGBA{R: r, G: g, B: b, A: 255} }
