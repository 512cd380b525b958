package report

import (
	"fmt"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
)

// Series is one named line of (x, y) points.
type Series struct {
	Name   string
	Points [][2]float64
}

// LinePlot draws the series as lines with points on one plot; logX puts
// the x axis on a log scale (every x must then be positive).
func LinePlot(title, xLabel, yLabel string, logX bool, series []Series) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = xLabel
	p.Y.Label.Text = yLabel
	p.Legend.Top = true
	if logX {
		p.X.Scale = plot.LogScale{}
		p.X.Tick.Marker = plot.LogTicks{Prec: -1}
	}
	n := 0
	for k, s := range series {
		if len(s.Points) == 0 {
			continue
		}
		xy := make(plotter.XYs, len(s.Points))
		for i, q := range s.Points {
			if logX && q[0] <= 0 {
				return nil, fmt.Errorf("line plot %q: x = %g on a log axis", title, q[0])
			}
			xy[i] = plotter.XY{X: q[0], Y: q[1]}
		}
		if err := addLine(p, xy, s.Name, k); err != nil {
			return nil, err
		}
		n++
	}
	if n == 0 {
		return nil, fmt.Errorf("line plot %q: no points", title)
	}
	return p, nil
}
