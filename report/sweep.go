// Package report renders Explorer results as plots: the best step time
// and the chosen plan against a swept quantity, and the Pareto fronts of
// step time against memory headroom. Plots are written as SVG and PNG
// with gonum.org/v1/plot; rendering is deterministic for the same input.
package report

import (
	"bytes"
	"fmt"
	"image/color"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"

	"github.com/scaleacross/scaleacross/internal/atomicfile"
)

// SweepPoint is one value of a sweep: the best plan's step time with a
// short label of what it chose, the baselines' step times (0 when none
// fits) and its Pareto front as (memory headroom GiB, step time s) pairs.
type SweepPoint struct {
	X          float64
	Best       float64
	Production float64
	PriorArt   float64
	Label      string
	Pareto     [][2]float64
}

// colour is the line colour of series k.
func colour(k int) color.RGBA {
	palette := [...]color.RGBA{{31, 119, 180, 255}, {214, 39, 40, 255}, {44, 160, 44, 255}, {148, 103, 189, 255}, {140, 86, 75, 255}, {127, 127, 127, 255}}
	return palette[k%len(palette)]
}

// SweepPlots draws the step-time plot and the Pareto plot of a sweep.
func SweepPlots(xLabel string, pts []SweepPoint) (steps, front *plot.Plot, err error) {
	if len(pts) == 0 {
		return nil, nil, fmt.Errorf("sweep plot: no points")
	}
	steps = plot.New()
	steps.Title.Text = "best step time vs " + xLabel
	steps.X.Label.Text = xLabel
	steps.Y.Label.Text = "step time (s)"
	steps.Legend.Top = true
	logX := spansDecades(pts)
	if logX {
		// Swept values such as 1 to 5,000 km read on a log axis.
		steps.X.Scale = plot.LogScale{}
		steps.X.Tick.Marker = plot.LogTicks{Prec: -1}
	}
	series := []struct {
		name string
		get  func(SweepPoint) float64
	}{
		{"best plan", func(p SweepPoint) float64 { return p.Best }},
		{"production", func(p SweepPoint) float64 { return p.Production }},
		{"prior art", func(p SweepPoint) float64 { return p.PriorArt }},
	}
	// Drawn last so that it lies on top: the best plan over the baselines.
	var top float64
	for k := len(series) - 1; k >= 0; k-- {
		s := series[k]
		var xy plotter.XYs
		for _, p := range pts {
			if v := s.get(p); v > 0 {
				xy = append(xy, plotter.XY{X: p.X, Y: v})
			}
		}
		if len(xy) == 0 {
			continue
		}
		for _, q := range xy {
			top = max(top, q.Y)
		}
		if err := addLine(steps, xy, s.name, k); err != nil {
			return nil, nil, err
		}
	}
	// Head room above the data for the legend, so it covers no point.
	steps.Y.Min, steps.Y.Max = 0, top*1.35
	// A label where the chosen plan changes, not at every point (they
	// overprint on dense sweeps).
	var labels []string
	var xy plotter.XYs
	for i, p := range pts {
		if i > 0 && p.Label == pts[i-1].Label {
			continue
		}
		labels = append(labels, p.Label)
		xy = append(xy, plotter.XY{X: p.X, Y: p.Best})
	}
	l, err := plotter.NewLabels(plotter.XYLabels{XYs: xy, Labels: labels})
	if err != nil {
		return nil, nil, fmt.Errorf("sweep plot labels: %w", err)
	}
	l.Offset = vg.Point{X: vg.Millimeter, Y: vg.Millimeter}
	steps.Add(l)

	front = plot.New()
	front.Title.Text = "Pareto front: step time vs memory headroom"
	front.X.Label.Text = "memory headroom per GPU (GiB)"
	front.Y.Label.Text = "step time (s)"
	front.Legend.Top = true
	for k, p := range pts {
		if len(p.Pareto) == 0 {
			continue
		}
		xy := make(plotter.XYs, len(p.Pareto))
		for i, q := range p.Pareto {
			xy[i] = plotter.XY{X: q[0], Y: q[1]}
		}
		if err := addLine(front, xy, fmt.Sprintf("%s = %g", xLabel, p.X), k); err != nil {
			return nil, nil, err
		}
	}
	return steps, front, nil
}

// spansDecades reports whether the swept values are all positive and
// span at least two decades, where a log axis reads better.
func spansDecades(pts []SweepPoint) bool {
	lo, hi := pts[0].X, pts[0].X
	for _, p := range pts {
		lo, hi = min(lo, p.X), max(hi, p.X)
	}
	return lo > 0 && hi/lo >= 100
}

func addLine(p *plot.Plot, xy plotter.XYs, name string, k int) error {
	l, s, err := plotter.NewLinePoints(xy)
	if err != nil {
		return fmt.Errorf("plot %s: %w", name, err)
	}
	l.Color = colour(k)
	s.Color = l.Color
	p.Add(l, s)
	p.Legend.Add(name, l, s)
	return nil
}

// Render draws p into SVG or PNG bytes (format "svg" or "png").
func Render(p *plot.Plot, format string) ([]byte, error) {
	w, h := 18*vg.Centimeter, 12*vg.Centimeter
	var c vg.CanvasWriterTo
	switch format {
	case "svg":
		c = vgsvg.New(w, h)
	case "png":
		c = vgimg.PngCanvas{Canvas: vgimg.New(w, h)}
	default:
		return nil, fmt.Errorf("render: unknown format %q (svg or png)", format)
	}
	p.Draw(draw.New(c))
	var buf bytes.Buffer
	if _, err := c.WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("render %s: %w", format, err)
	}
	return buf.Bytes(), nil
}

// WriteSweepPlots writes base.svg, base.png, base-pareto.svg and
// base-pareto.png through write, which should replace each file
// atomically (the command line's writer), and returns their paths; a nil
// write writes each through a temporary file renamed into place.
func WriteSweepPlots(base, xLabel string, pts []SweepPoint, write func(path string, data []byte) error) ([]string, error) {
	if write == nil {
		var set *atomicfile.Set
		write = set.WriteBytes
	}
	steps, front, err := SweepPlots(xLabel, pts)
	if err != nil {
		return nil, err
	}
	var files []string
	for _, x := range []struct {
		p    *plot.Plot
		name string
	}{{steps, base}, {front, base + "-pareto"}} {
		for _, f := range []string{"svg", "png"} {
			data, err := Render(x.p, f)
			if err != nil {
				return nil, err
			}
			path := x.name + "." + f
			if err := write(path, data); err != nil {
				return nil, fmt.Errorf("writing plot: %w", err)
			}
			files = append(files, path)
		}
	}
	return files, nil
}
