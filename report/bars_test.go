package report

import (
	"bytes"
	"strings"
	"testing"
)

func TestStackedBarsSVG(t *testing.T) {
	c := StackedBars{Title: "step <s>", Parts: []string{"compute", "comm"}, Unit: "s", Limit: 5, LimitLabel: "cap",
		Bars: []Bar{{Label: "best", Values: []float64{1, 0.5}}, {Label: "production", Values: []float64{1, 2}}}}
	var a, b bytes.Buffer
	if err := WriteStackedBarsSVG(&a, c, 600); err != nil {
		t.Fatal(err)
	}
	WriteStackedBarsSVG(&b, c, 600)
	if a.String() != b.String() {
		t.Error("not deterministic")
	}
	s := a.String()
	if n := strings.Count(s, `class="bar"`); n != 2 {
		t.Errorf("%d bars, want 2", n)
	}
	if !strings.Contains(s, "step &lt;s&gt;") || !strings.Contains(s, "stroke-dasharray") {
		t.Errorf("missing escaped title or limit line:\n%s", s)
	}
	c.Bars[0].Values = []float64{1}
	if err := WriteStackedBarsSVG(&a, c, 600); err == nil {
		t.Error("mismatched values accepted")
	}
}

func TestLinePlot(t *testing.T) {
	p, err := LinePlot("t", "x", "y", true, []Series{{Name: "a", Points: [][2]float64{{1, 2}, {4, 3}}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Render(p, "svg"); err != nil {
		t.Fatal(err)
	}
	if _, err := LinePlot("t", "x", "y", true, []Series{{Name: "a", Points: [][2]float64{{0, 2}}}}); err == nil {
		t.Error("x = 0 on a log axis accepted")
	}
}
