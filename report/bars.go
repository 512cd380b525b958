package report

import (
	"bufio"
	"fmt"
	"html"
	"io"
	"strconv"
)

// Bar is one horizontal bar of a stacked bar chart: a label and one value
// per part, in the chart's part order.
type Bar struct {
	Label  string
	Values []float64
}

// StackedBars describes a horizontal stacked bar chart. Limit, when
// positive, draws a dashed vertical line at that value (a capacity).
type StackedBars struct {
	Title      string
	Parts      []string
	Bars       []Bar
	Unit       string
	Limit      float64
	LimitLabel string
}

// barColour is the fill of part k (colour-blind-safe Okabe-Ito palette).
func barColour(k int) string {
	p := [...]string{"#0072B2", "#009E73", "#E69F00", "#CC79A7", "#D55E00", "#56B4E9", "#F0E442", "#999999"}
	return p[k%len(p)]
}

// WriteStackedBarsSVG draws c as a self-contained SVG, width pixels wide:
// one row per bar, each part a segment with a tooltip, a value axis, and
// a legend of the parts. Output is deterministic.
func WriteStackedBarsSVG(w io.Writer, c StackedBars, width int) error {
	if len(c.Bars) == 0 {
		return fmt.Errorf("stacked bars %q: no bars", c.Title)
	}
	total := c.Limit
	for _, b := range c.Bars {
		if len(b.Values) != len(c.Parts) {
			return fmt.Errorf("stacked bars %q: bar %q has %d values for %d parts", c.Title, b.Label, len(b.Values), len(c.Parts))
		}
		s := 0.0
		for _, v := range b.Values {
			s += max(v, 0)
		}
		total = max(total, s)
	}
	if total <= 0 {
		total = 1
	}
	const label, top, rowH = 100, 28, 26
	plot := float64(width - label - 70)
	legendY := top + rowH*len(c.Bars) + 24
	h := legendY + 18*((len(c.Parts)+3)/4) + 8
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) }
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, `<svg xmlns="http://www.w3.org/2000/svg" class="bars" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="11">`+"\n", width, h, width, h)
	fmt.Fprintf(bw, `<rect width="%d" height="%d" fill="white"/>`+"\n", width, h)
	fmt.Fprintf(bw, `<text x="%d" y="16" font-weight="bold">%s</text>`+"\n", label, html.EscapeString(c.Title))
	for i, b := range c.Bars {
		y := top + i*rowH
		fmt.Fprintf(bw, `<g class="bar" data-label="%s">`+"\n", html.EscapeString(b.Label))
		fmt.Fprintf(bw, `<text x="4" y="%d">%s</text>`+"\n", y+15, html.EscapeString(b.Label))
		x, sum := float64(label), 0.0
		for k, v := range b.Values {
			if v <= 0 {
				continue
			}
			wd := v / total * plot
			fmt.Fprintf(bw, `<rect x="%s" y="%d" width="%s" height="%d" fill="%s"><title>%s: %s %s</title></rect>`+"\n",
				f(x), y+2, f(wd), rowH-8, barColour(k), html.EscapeString(c.Parts[k]), strconv.FormatFloat(v, 'g', 4, 64), html.EscapeString(c.Unit))
			x += wd
			sum += v
		}
		fmt.Fprintf(bw, `<text x="%s" y="%d">%s %s</text>`+"\n", f(x+4), y+15, strconv.FormatFloat(sum, 'g', 4, 64), html.EscapeString(c.Unit))
		bw.WriteString("</g>\n")
	}
	axisY := top + rowH*len(c.Bars)
	for i := 0; i <= 4; i++ {
		x := float64(label) + float64(i)/4*plot
		fmt.Fprintf(bw, `<line x1="%s" y1="%d" x2="%s" y2="%d" stroke="#ccc"/>`+"\n", f(x), top, f(x), axisY)
		fmt.Fprintf(bw, `<text x="%s" y="%d" text-anchor="middle">%s</text>`+"\n", f(x), axisY+12, strconv.FormatFloat(total*float64(i)/4, 'g', 3, 64))
	}
	if c.Limit > 0 {
		x := float64(label) + c.Limit/total*plot
		fmt.Fprintf(bw, `<line x1="%s" y1="%d" x2="%s" y2="%d" stroke="#D55E00" stroke-dasharray="4 3"><title>%s</title></line>`+"\n", f(x), top-4, f(x), axisY, html.EscapeString(c.LimitLabel))
	}
	for k, p := range c.Parts {
		x := label + (k%4)*150
		y := legendY + 18*(k/4)
		fmt.Fprintf(bw, `<rect x="%d" y="%d" width="10" height="10" fill="%s"/><text x="%d" y="%d">%s</text>`+"\n", x, y, barColour(k), x+14, y+9, html.EscapeString(p))
	}
	bw.WriteString("</svg>\n")
	return bw.Flush()
}
